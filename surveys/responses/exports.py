"""Exports for administrators: a cycle's submitted answers as a CSV a spreadsheet opens safely.

Raters appear under a pseudonym (stable within one cycle, derived with the server's
key), never by name or e-mail, and answers carry the day they were submitted, not the
second: an export travels further than the database, and a pseudonym followed across
cycles, or a timestamp, would help a reader put a name back on a row.
The file is in `rapport score-file`'s long format, so an analyst can score it again.
Any text a spreadsheet could take for a formula (=, +, -, @ first) is prefixed with an
apostrophe, so a comment like `=HYPERLINK(...)` shows as text instead of running.
"""

from __future__ import annotations

import hashlib
import hmac

import pandas as pd

from surveys.infra.errors import RapportError
from surveys.infra.spreadsheets import spreadsheet_safe
from surveys.responses.answers import Answer, ResponseStatus


class ExportError(RapportError):
    """Nothing to export; the message says what to do first."""


EXPORT_COLUMNS = (
    "cycle",
    "instrument",
    "rater",
    "rater_org",
    "target",
    "item",
    "value",
    "text",
    "submitted_at",
)


def pseudonym(secret: str, email: str, cycle: str) -> str:
    """Return a rater's pseudonym in one cycle: the same person, the same name, within it."""
    digest = hmac.new(secret.encode(), f"rapport-rater:{cycle}:{email}".encode(), hashlib.sha256)
    return f"r-{digest.hexdigest()[:12]}"


async def responses_table(cycle_key: str, secret: str) -> pd.DataFrame:
    """Return a cycle's submitted answers, one row per answer (EXPORT_COLUMNS).

    `value` is the number answered, empty when skipped, NA when not applicable; `text`
    holds the comment.
    """
    response = Answer.response
    invitation = response._.invitation
    rows = await Answer.select(
        invitation._.cycle._.key.as_alias("cycle"),
        invitation._.instrument._.key.as_alias("instrument"),
        invitation._.respondent._.email.as_alias("email"),
        invitation._.respondent._.organisation._.slug.as_alias("rater_org"),
        invitation._.target._.slug.as_alias("target"),
        Answer.item._.key.as_alias("item"),
        Answer.value,
        Answer.not_applicable,
        Answer.text,
        response._.submitted_at.as_alias("submitted_at"),
    ).where(
        (invitation._.cycle._.key == cycle_key)
        & (response._.status == ResponseStatus.submitted.value)
    )
    table = pd.DataFrame(
        rows,
        columns=[
            "cycle",
            "instrument",
            "email",
            "rater_org",
            "target",
            "item",
            "value",
            "not_applicable",
            "text",
            "submitted_at",
        ],
    )
    table.insert(2, "rater", [pseudonym(secret, e, cycle_key) for e in table["email"]])
    value = table["value"].astype("Int64").astype("string")
    table["value"] = value.where(~table["not_applicable"].astype(bool), "NA").fillna("")
    table["text"] = table["text"].fillna("").map(spreadsheet_safe)
    table["submitted_at"] = pd.to_datetime(table["submitted_at"], utc=True).dt.strftime("%Y-%m-%d")
    table = table.sort_values(["instrument", "rater", "target", "item"], ignore_index=True)
    return table[list(EXPORT_COLUMNS)]
