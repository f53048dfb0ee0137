"""What opening a draft cycle would do, before anyone is invited: for the console to show.

The same rule as opening (`life_cycle.opening_plan`) picks who would be asked; nothing is
written. Each person would get one e-mail in their language, so the preview counts
people per language and renders one sample letter per direction and language, addressed
to someone who would really get it (the one asked about the most partners).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from surveys.cycles.life_cycle import opening_plan
from surveys.directory.organisations import Organisation, Person
from surveys.infra.i18n import Text, choose_language
from surveys.infra.mail import Letter, Survey, compose
from surveys.infra.settings import programme_scoring_config
from surveys.instruments import Direction
from surveys.instruments.questionnaires import privacy_note

SAMPLE_LINK = "/s/(each person's own link)"
"""Where a sample letter's links point: every real letter carries secret ones."""


@dataclass(frozen=True)
class SideOfOpening:
    """What opening would do in one direction."""

    direction: str
    invitations: int
    people: int
    """People asked (each gets one e-mail, naming all their partners)."""
    organisations: int
    """Organisations those people work at."""
    languages: dict[str, int]
    """People per language their e-mail would be written in, most first."""


@dataclass(frozen=True)
class SampleLetter:
    """One invitation e-mail as a person would get it."""

    direction: str
    language: str
    to: str
    """The person it is addressed to, by name."""
    partners: int
    subject: str
    text: str
    """The plain-text body."""


@dataclass(frozen=True)
class OpeningPreview:
    """What opening a cycle would do, and whether it may open at all."""

    key: str
    status: str
    invitations: int
    people: int
    organisations: int
    sides: tuple[SideOfOpening, ...]
    samples: tuple[SampleLetter, ...]
    problems: tuple[Text, ...]
    """Why opening would be refused (empty: it may open)."""


async def opening_preview(key: str, public_url: str, now: dt.datetime) -> OpeningPreview:
    """Return how many invitations opening cycle `key` would make, to how many people at how
    many organisations, in which languages per direction, with a sample e-mail for each
    direction and language."""
    plan = await opening_plan(key)
    table = plan.invitees
    people = {
        row["id"]: row
        for row in await Person.select(
            Person.id,
            Person.name,
            Person.email,
            Person.language,
            Person.organisation,
            Person.organisation._.name.as_alias("organisation_name"),
        ).where(Person.active.eq(True))
    }
    names = {
        row["id"]: row["name"]
        for row in await Organisation.select(Organisation.id, Organisation.name)
    }
    table = table.assign(
        organisation=table["respondent"].map(lambda p: people[p]["organisation"]),
        language=table["respondent"].map(lambda p: choose_language(people[p]["language"])),
    )
    sides = []
    samples = []
    config = programme_scoring_config()
    for direction in (Direction.site_rates_sponsor, Direction.sponsor_rates_site):
        side = table[table["direction"] == direction]
        per_person = side.drop_duplicates("respondent")
        sides.append(
            SideOfOpening(
                direction=direction.value,
                invitations=len(side),
                people=len(per_person),
                organisations=int(per_person["organisation"].nunique()),
                languages={
                    str(k): int(v) for k, v in per_person["language"].value_counts().items()
                },
            )
        )
        for language, asked in side.groupby("language", sort=True):
            counts = asked.groupby("respondent").size()
            person = people[int(counts.sort_values(ascending=False, kind="stable").index[0])]
            mine = asked[asked["respondent"] == person["id"]]
            letter = Letter(
                cycle_id=plan.cycle.id,
                person_id=int(person["id"]),
                kind="invitation",
                number=0,
                name=person["name"],
                email=person["email"],
                language=str(language),
                organisation=person["organisation_name"],
                cycle=plan.cycle.title,
                deadline=plan.cycle.closes_at or now,
                surveys=tuple(
                    Survey(
                        invitation_id=int(row.Index),
                        partner=names[int(row.target)],
                        link=f"{public_url}{SAMPLE_LINK}",
                        privacy=privacy_note(direction, names[int(row.target)], config),
                    )
                    for row in mine.sort_values("target").itertuples()
                ),
            )
            message = compose(letter, "preview@rapport.invalid", now)
            body = message.get_body(("plain",))
            samples.append(
                SampleLetter(
                    direction=direction.value,
                    language=str(language),
                    to=person["name"],
                    partners=len(mine),
                    subject=str(message["Subject"]),
                    text=body.get_content() if body is not None else "",
                )
            )
    return OpeningPreview(
        key=plan.cycle.key,
        status=plan.cycle.status,
        invitations=len(table),
        people=int(table["respondent"].nunique()),
        organisations=int(table["organisation"].nunique()),
        sides=tuple(sides),
        samples=tuple(samples),
        problems=plan.problems,
    )
