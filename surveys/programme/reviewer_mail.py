"""The e-mails that tell tier reviewers a cycle's run is ready, and remind them before the
review window ends.

A cycle's reviewers are the people whose accounts review an assessor's tiers: users of
the sponsor (or network) itself and its relationship managers. Each gets one letter per
cycle and kind, naming every organisation whose tiers they review, in their own language;
the reminder goes only to those with tiers still neither accepted nor overridden.

Each letter is claimed before it is sent (a row keyed by cycle, kind and account) and the
claim is given back if the mail server cannot take it now, so a step run twice, or by two
workers at once, sends nothing twice, and a letter the server could not take is sent by
the next attempt.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid
from urllib.parse import quote

from piccolo.columns import ForeignKey, OnDelete, Serial, Timestamptz, Varchar
from piccolo.table import Table

from surveys.accounts.credentials import AccessGrant, Account, GrantRole
from surveys.cycles.cycle import Cycle, cycle_by_key
from surveys.infra.i18n import DEFAULT_LANGUAGE, N_, Text, choose_language, long_date, translated
from surveys.infra.mail import MAIL_DOMAIN, DeliveryError, Mailer
from surveys.infra.templating import environment
from surveys.results.tier_assignments import TierAssignment

REVIEWING_ROLES = (GrantRole.sponsor_user.value, GrantRole.relationship_manager.value)
"""Grants at an assessor that review its tiers (`Reach.may_review_tiers`)."""


class ReviewerNotice(Table):
    """One letter to one reviewer about one cycle: claimed, then sent."""

    id: Serial  # Piccolo's own primary key, declared for the type checker

    key = Varchar(length=120, unique=True)
    """`<cycle>/<kind>/<account>`."""
    cycle = ForeignKey(Cycle, on_delete=OnDelete.cascade, null=False, index=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, null=False)
    kind = Varchar(length=12)
    """`ready` or `reminder`."""
    sent_at = Timestamptz()


@dataclass(frozen=True)
class Reviewer:
    """A person who reviews tiers in a cycle, and whose."""

    account: int
    name: str
    email: str
    language: str
    assessors: tuple[tuple[str, str], ...]
    """(name, slug) of each organisation whose tiers they review, by name."""


@dataclass
class NoticeReport:
    """What a round of reviewer letters did."""

    sent: int = 0
    already: int = 0
    failed: list[str] = field(default_factory=list)
    again: bool = False
    """A letter failed for a passing reason (the mail server busy or down): try later. A
    letter refused for good, or that cannot be written, is listed and not tried again, so
    one closed mailbox never holds up publication."""


async def cycle_reviewers(cycle_id: int, pending_only: bool) -> list[Reviewer]:
    """The active accounts that review some assessor's tiers in the cycle (only those with
    tiers left to review, if `pending_only`), by name."""
    tiers = TierAssignment.select(TierAssignment.assessor).where(TierAssignment.cycle == cycle_id)
    if pending_only:
        tiers = tiers.where(
            TierAssignment.override_tier.is_null() & TierAssignment.accepted_at.is_null()
        )
    assessors = {row["assessor"] for row in await tiers}
    if not assessors:
        return []
    grant = AccessGrant
    rows = await grant.select(
        grant.account,
        grant.account._.person._.name.as_alias("name"),
        grant.account._.person._.email.as_alias("email"),
        grant.account._.person._.language.as_alias("person_language"),
        grant.account._.language.as_alias("account_language"),
        grant.organisation._.name.as_alias("assessor"),
        grant.organisation._.slug.as_alias("slug"),
    ).where(
        grant.organisation.is_in(sorted(assessors))
        & grant.role.is_in(list(REVIEWING_ROLES))
        & (grant.account._.active == True)  # noqa: E712 (a column, not a bool)
        & (grant.account._.person._.active == True)  # noqa: E712
        & grant.account._.person._.erased_at.is_null()
    )
    people: dict[int, Reviewer] = {}
    for row in rows:
        found = people.get(row["account"])
        whose = (str(row["assessor"]), str(row["slug"]))
        if found is None:
            people[row["account"]] = Reviewer(
                row["account"],
                str(row["name"]),
                str(row["email"]),
                choose_language(row["account_language"], row["person_language"]),
                (whose,),
            )
        elif whose not in found.assessors:
            people[row["account"]] = Reviewer(
                found.account,
                found.name,
                found.email,
                found.language,
                tuple(sorted((*found.assessors, whose))),
            )
    return sorted(people.values(), key=lambda r: (r.name, r.account))


async def tell_reviewers(
    cycle_key: str, kind: str, review_ends_at: dt.datetime, mailer: Mailer, now: dt.datetime
) -> NoticeReport:
    """Send the `ready` letter to every reviewer of the cycle, or the `reminder` to those
    with tiers left; each once."""
    cycle_id = (await cycle_by_key(cycle_key)).id
    report = NoticeReport()
    for reviewer in await cycle_reviewers(cycle_id, pending_only=kind == "reminder"):
        key = f"{cycle_key}/{kind}/{reviewer.account}"
        try:
            message = review_letter(reviewer, cycle_key, kind, review_ends_at, mailer, now)
        except (ValueError, TypeError) as error:  # the mail library refuses the headers
            report.failed.append(f"{reviewer.email}: cannot be written as an e-mail ({error})")
            continue
        claimed = (
            await ReviewerNotice.insert(
                ReviewerNotice(
                    key=key, cycle=cycle_id, account=reviewer.account, kind=kind, sent_at=now
                )
            )
            .on_conflict(target=ReviewerNotice.key, action="DO NOTHING")
            .returning(ReviewerNotice.id)
        )
        if not claimed:
            report.already += 1
            continue
        try:
            await mailer.delivery.deliver(message, reviewer.email)
        except DeliveryError as error:
            if not error.permanent:  # refused for good (a mailbox closed): not tried again
                await ReviewerNotice.delete().where(ReviewerNotice.key == key)
                report.again = True
            report.failed.append(f"{reviewer.email}: {error}")
            continue
        report.sent += 1
    return report


SUBJECTS = {
    "ready": N_("Rapport: the %(cycle)s tiers are ready for your review"),
    "reminder": N_("Rapport: the %(cycle)s tier review ends on %(day)s"),
}


def review_letter(
    reviewer: Reviewer,
    cycle_key: str,
    kind: str,
    review_ends_at: dt.datetime,
    mailer: Mailer,
    now: dt.datetime,
) -> EmailMessage:
    """The letter, in the reviewer's language, with a link to each tier review."""
    language = reviewer.language or DEFAULT_LANGUAGE
    day = review_ends_at.date()
    links = [
        (name, f"{mailer.public_url}/w/sponsors/{slug}/tiers?cycle={quote(cycle_key)}")
        for name, slug in reviewer.assessors
    ]
    context = translated(
        {"name": reviewer.name, "cycle": cycle_key, "ends": day, "kind": kind, "links": links},
        language,
    )
    message = EmailMessage()
    message["From"] = mailer.sender
    message["To"] = formataddr((reviewer.name, reviewer.email))
    message["Date"] = format_datetime(now)
    message["Message-ID"] = make_msgid("review", MAIL_DOMAIN)
    message["Subject"] = Text(
        SUBJECTS[kind], {"cycle": cycle_key, "day": long_date(review_ends_at, language)}
    ).render(language)
    message["Content-Language"] = language
    message.set_content(environment().get_template("email/tier_review.txt").render(context))
    return message
