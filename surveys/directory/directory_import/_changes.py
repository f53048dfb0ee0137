"""What an import would do, before it does it: the preview the command and the console show."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


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
        text = (
            f"{noun}: {len(self.new):,} new, {len(self.changed):,} changed, "
            f"{self.unchanged:,} unchanged"
        )
        return text + (f", {len(self.deactivated):,} deactivated" if self.deactivated else "")


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
        """The change set as text, one fact a line, naming at most `shown` records of each."""
        lines: list[str] = []
        for noun, kind in (
            ("organisations", self.organisations),
            ("people", self.people),
            ("relationships", self.relationships),
        ):
            lines.append(kind.line(noun))
            lines += _named("  new", list(kind.new), shown)
            lines += _named(
                "  changed", [f"{c.key} ({', '.join(c.fields)})" for c in kind.changed], shown
            )
            lines += _named("  deactivated", [c.key for c in kind.deactivated], shown)
        contacts = f"contacts: {self.contacts_added:,} added"
        lines.append(contacts + (f", {self.contacts_removed:,} removed" if self.sync else ""))
        return lines


def _named(label: str, keys: list[str], shown: int) -> list[str]:
    if not keys:
        return []
    more = f" … and {len(keys) - shown:,} more" if len(keys) > shown else ""
    return [f"{label}: {', '.join(keys[:shown])}{more}"]
