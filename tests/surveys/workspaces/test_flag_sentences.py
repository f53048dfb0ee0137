"""Escalation flags on the review meeting pack and the trends page: said in the reader's
language from the stored figures, never with the engine's English detail."""

from __future__ import annotations

import datetime as dt

import pytest
from piccolo.engine.base import Engine

from surveys.directory.audit import Act
from surveys.directory.organisations import Organisation, Relationship
from surveys.infra.i18n import percent
from surveys.results.score_runs import EscalationFlag, TargetIndex, scored_cycles
from surveys.results.tier_review import publish_cycle
from surveys.workspaces.institution_trends import Flags, scope_of, scope_trends
from surveys.workspaces.meeting_pack import meeting_pack

pytestmark = pytest.mark.anyio
NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
DROP = "RI 15 [13–17], below its lower bound 27"
COLLAPSE = "response rate 33%, was 83%"


async def _flagged_relationship() -> tuple[dict[str, object], dict[str, object], str]:
    """Publish the two oldest scored cycles; a sponsor and a site whose sponsor rated it in
    both, the latest published cycle's run flagging a drop and a collapse of that view with
    figures we set (the previous cycle's key returned)."""
    keys = [str(c["key"]) for c in reversed(await scored_cycles())]
    for key in keys[:2]:
        await publish_cycle(key, Act("test", NOW))
    published = await scored_cycles(("published",))
    run, before = int(str(published[0]["run"])), int(str(published[1]["run"]))
    for rel in await Relationship.select(Relationship.sponsor, Relationship.site).where(
        Relationship.active.eq(True)
    ):
        view = (TargetIndex.target == rel["site"]) & (
            TargetIndex.rater_organisation == rel["sponsor"]
        )
        if await TargetIndex.count().where(view & TargetIndex.run.is_in([run, before])) == 2:
            break
    else:
        raise AssertionError("a sponsor rates one of its sites in both cycles")
    await TargetIndex.update(
        {
            TargetIndex.reliability_index: 15.2,
            TargetIndex.ri_low: 13.4,
            TargetIndex.ri_high: 17.3,
            TargetIndex.response_rate: 1 / 3,
            TargetIndex.shown: True,
        }
    ).where(view & (TargetIndex.run == run))
    await TargetIndex.update(
        {TargetIndex.ri_low: 27.4, TargetIndex.response_rate: 5 / 6, TargetIndex.shown: True}
    ).where(view & (TargetIndex.run == before))
    for kind, detail in (("significant_drop", DROP), ("response_collapse", COLLAPSE)):
        await EscalationFlag.insert(
            EscalationFlag(
                run=run,
                cycle=published[0]["id"],
                target=rel["site"],
                rater_organisation=rel["sponsor"],
                kind=kind,
                detail=detail,
                shown=True,
            )
        )
    orgs = {
        r["id"]: r
        for r in await Organisation.select(
            Organisation.id, Organisation.slug, Organisation.name
        ).where(Organisation.id.is_in([rel["sponsor"], rel["site"]]))
    }
    return orgs[rel["sponsor"]], orgs[rel["site"]], str(published[1]["key"])


def _english(previous: str) -> tuple[str, str]:
    return (
        f"A significant drop: index 15 [13–17], below {previous}'s lower bound of 27.",
        "The response rate collapsed: 33%, down from 83%.",
    )


def _reads_french(text: str, previous: str) -> None:
    assert "Baisse significative" in text or "effondré" in text, text
    assert DROP not in text and COLLAPSE not in text, "no stored English detail"
    assert not any(w in text for w in ("significant", "collapsed", "lower bound")), text
    if "Baisse significative" in text:
        assert "indice 15 [13–17]" in text and previous in text and "(27)" in text, text
    else:
        assert percent(1 / 3, "fr") in text and percent(5 / 6, "fr") in text, text
        assert "33%" not in text, "a French percentage has its space"


async def test_the_meeting_pack_and_trends_say_flags_in_the_readers_language(
    scored_world_db: Engine,
) -> None:
    sponsor, site, previous = await _flagged_relationship()
    ids = int(str(sponsor["id"])), int(str(site["id"]))
    drop, collapse = _english(previous)

    english = [p.text for p in (await meeting_pack(*ids, NOW.date())).agenda if p.kind == "flag"]
    assert f"{site['name']}: {drop}" in english
    assert f"{site['name']}: {collapse}" in english
    french = [
        p.text
        for p in (await meeting_pack(*ids, NOW.date(), language="fr")).agenda
        if p.kind == "flag"
    ]
    ours = [  # the agenda is in the same order in every language
        f
        for e, f in zip(english, french, strict=True)
        if "A significant drop" in e or "collapsed" in e
    ]
    assert len(ours) >= 2
    for text in ours:
        _reads_french(text, previous)

    scope = await scope_of(str(sponsor["slug"]))
    assert scope is not None
    cycle = str((await scored_cycles(("published",)))[0]["key"])

    async def flags_of(language: str) -> Flags:
        trends = await scope_trends(scope, cycle, language=language)
        return next(f for f in trends.flags if f.member.id == site["id"])

    in_english, in_french = await flags_of("en"), await flags_of("fr")
    assert drop in in_english.drop_sentences and collapse in in_english.collapse_sentences
    assert DROP in in_english.drops and COLLAPSE in in_english.collapses, "the API keeps them"
    assert len(in_french.drop_sentences) == len(in_english.drop_sentences)
    for text in (*in_french.drop_sentences, *in_french.collapse_sentences):
        _reads_french(text, previous)


async def test_a_hidden_cell_gives_the_sentence_without_figures(scored_world_db: Engine) -> None:
    sponsor, site, _ = await _flagged_relationship()
    published = await scored_cycles(("published",))
    await TargetIndex.update({TargetIndex.shown: False}).where(
        (TargetIndex.run == int(str(published[1]["run"])))
        & (TargetIndex.target == site["id"])
        & (TargetIndex.rater_organisation == sponsor["id"])
    )
    pack = await meeting_pack(int(str(sponsor["id"])), int(str(site["id"])), NOW.date())
    said = [p.text for p in pack.agenda if p.kind == "flag" and p.text.startswith(site["name"])]
    assert f"{site['name']}: The response rate collapsed since the last cycle." in said
    assert (
        f"{site['name']}: A significant drop: this cycle's interval lies wholly below the "
        "previous one's." in said
    )
    assert not any("83" in s or "27" in s for s in said), "no figure of the hidden cell"
