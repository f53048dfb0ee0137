"""What an import would do, before it does it: the preview the command and the console show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from surveys.infra.i18n import N_, Text


@dataclass(frozen=True)
class Changed:
    """A stored record the import changes."""

    key: str
    """Its slug (an organisation), e-mail (a person) or `sponsor → site` (a relationship)."""
    id: int
    fields: tuple[str, ...]
    """The fields whose stored value changes (`active` when it is reactivated or deactivated)."""


@dataclass(frozen=True)
class KindChanges:
    """What happens to one kind of record."""

    new: tuple[str, ...]
    """Keys of the records created."""
    changed: tuple[Changed, ...]
    unchanged: int
    """Records the file lists that stay as they are."""
    deactivated: tuple[Changed, ...] = ()
    """Stored records the file no longer lists (with --sync only): set inactive, never deleted."""

    def counts(self) -> dict[str, int]:
        """Counts by outcome, as the audit log keeps them."""
        return {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "deactivated": len(self.deactivated),
        }

    def line(self, noun: str) -> str:
        """One sentence of counts: `organisations: 3 new, 1 changed, 12 unchanged`."""
        return self.said(noun).render(ENGLISH)

    def said(self, noun: str) -> Text:
        """The sentence of counts for a page to translate; `noun` is the kind's plural
        (organisations, people, relationships)."""
        values = {
            "new": len(self.new),
            "changed": len(self.changed),
            "unchanged": self.unchanged,
            "deactivated": len(self.deactivated),
        }
        return Text(COUNTS[noun][bool(self.deactivated)], values)


@dataclass(frozen=True)
class ChangeSet:
    """Everything an import of one file changes, by kind of record."""

    filename: str
    rows: int
    sync: bool
    """Whether stored records the file does not list are deactivated."""
    organisations: KindChanges
    people: KindChanges
    relationships: KindChanges
    contacts_added: int
    """People newly recorded as working on a relationship (so rating its other side)."""
    contacts_removed: int
    """With --sync, people no longer listed on a relationship."""

    @property
    def changes_nothing(self) -> bool:
        """Whether importing the file would leave the directory as it is."""
        kinds = (self.organisations, self.people, self.relationships)
        return not (
            self.contacts_added
            or self.contacts_removed
            or any(k.new or k.changed or k.deactivated for k in kinds)
        )

    def counts(self) -> dict[str, Any]:
        """The counts, for the audit log and the API."""
        return {
            "file": self.filename,
            "rows": self.rows,
            "sync": self.sync,
            "organisations": self.organisations.counts(),
            "people": self.people.counts(),
            "relationships": self.relationships.counts(),
            "contacts": {"added": self.contacts_added, "removed": self.contacts_removed},
        }

    def lines(self, shown: int = 10) -> list[str]:
        """The change set as text, one fact a line, naming at most `shown` records of each
        (as the command prints it: a line naming records is indented under its counts)."""
        return [line.render(ENGLISH) for line in self.texts(shown)]

    def texts(self, shown: int = 10) -> list[Line]:
        """The same lines for a page to translate (`line.said | translate`)."""
        lines: list[Line] = []
        for noun, kind in (
            ("organisations", self.organisations),
            ("people", self.people),
            ("relationships", self.relationships),
        ):
            lines.append(Line(kind.said(noun)))
            lines += _named("new", list(kind.new), shown)
            lines += _named(
                "changed", [f"{c.key} ({', '.join(c.fields)})" for c in kind.changed], shown
            )
            lines += _named("deactivated", [c.key for c in kind.deactivated], shown)
        values = {"added": self.contacts_added, "removed": self.contacts_removed}
        if self.sync:
            lines.append(Line(Text(N_("contacts: %(added)s added, %(removed)s removed"), values)))
        else:
            lines.append(Line(Text(N_("contacts: %(added)s added"), values)))
        return lines


@dataclass(frozen=True)
class Line:
    """One line of a change set: its counts, or (a detail) the records it names."""

    said: Text
    detail: bool = False
    """A line naming records, under the counts of their kind (indented on the command line)."""

    def render(self, language: str) -> str:
        return ("  " if self.detail else "") + self.said.render(language)


ENGLISH = "en"
COUNTS = {
    "organisations": (
        N_("organisations: %(new)s new, %(changed)s changed, %(unchanged)s unchanged"),
        N_(
            "organisations: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(deactivated)s deactivated"
        ),
    ),
    "people": (
        N_("people: %(new)s new, %(changed)s changed, %(unchanged)s unchanged"),
        N_(
            "people: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(deactivated)s deactivated"
        ),
    ),
    "relationships": (
        N_("relationships: %(new)s new, %(changed)s changed, %(unchanged)s unchanged"),
        N_(
            "relationships: %(new)s new, %(changed)s changed, %(unchanged)s unchanged, "
            "%(deactivated)s deactivated"
        ),
    ),
}
"""Each kind's sentence of counts: without, then with, records deactivated."""
NAMED = {
    "new": (N_("new: %(records)s"), N_("new: %(records)s … and %(more)s more")),
    "changed": (N_("changed: %(records)s"), N_("changed: %(records)s … and %(more)s more")),
    "deactivated": (
        N_("deactivated: %(records)s"),
        N_("deactivated: %(records)s … and %(more)s more"),
    ),
}
"""The line naming a kind's records by outcome: all of them, then the first few."""


def _named(outcome: str, keys: list[str], shown: int) -> list[Line]:
    if not keys:
        return []
    values: dict[str, Any] = {"records": ", ".join(keys[:shown])}
    if len(keys) > shown:
        values["more"] = len(keys) - shown
    return [Line(Text(NAMED[outcome][len(keys) > shown], values), detail=True)]
