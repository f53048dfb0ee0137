"""The console's response import in its reader's language: each problem of a refused file
and the preview's notes in German, while the error the command prints stays the English it
always was."""

from __future__ import annotations

import datetime as dt
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.accounts.credentials import Account
from surveys.directory.organisations import Person
from surveys.infra.i18n import N_, Text
from surveys.responses.imports import ImportFileError, import_responses, load_mapping
from tests.surveys.responses.test_imports import CYCLE, SAMPLES, sample, two_invitations
from tests.web.test_response_import_console import FORM, as_administrator, posted
from tests.web.test_workspaces import characters

pytestmark = pytest.mark.anyio

OUTSIDE = Text(
    N_("column %(column)s: %(value)s is outside %(low)s–%(high)s for %(key)s"),
    {
        "column": "protocol_feasible",
        "value": "'9'",
        "low": "1",
        "high": "5",
        "key": "protocol_feasible",
    },
)
"""Line 3's problem: a 9 on a five-point item."""
NO_TIMES = Text(N_("no submission times in the file: the import's time is used"), sentence=True)


def on_line(problem: Text, line: int, language: str) -> str:
    """A problem as the page lists it: on its line, in its column."""
    return Text(
        N_("Line %(line)s, %(problem)s"), {"line": line, "problem": problem.render(language)}
    ).render(language)


@pytest.fixture(autouse=True)
def own_var_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Uploads wait in the test's own var folder."""
    var = tmp_path / "var"
    monkeypatch.setenv("RAPPORT_VAR_DIR", str(var))
    return var


async def test_a_german_administrator_reads_the_problems_and_the_notes_in_german(
    world_db: Engine, tmp_path: Path
) -> None:
    people = await two_invitations()
    good = sample("plain.csv", tmp_path, people)
    text = (SAMPLES / "plain.csv").read_text(encoding="utf-8")
    lines = text.splitlines()
    lines[2] = lines[2].replace("},2,,", "},9,,", 1)
    bad = sample("broken.csv", tmp_path, people, "\n".join(lines) + "\n")
    administrator = (await characters())["administrator"]
    person = await Person.select(Person.id).where(Person.email == administrator).first()
    assert person is not None
    await Person.update({Person.language: "de"}).where(Person.id == person["id"])
    await Account.update({Account.language: "de"}).where(Account.person == person["id"])

    async def steps(client: AsyncTestClient[Any], token: str) -> dict[str, Any]:
        refused = await client.post(FORM, **posted(bad.read_bytes(), token, "broken.csv"))
        checked = await client.post(FORM, **posted(good.read_bytes(), token))
        return locals()

    r = await as_administrator(world_db, administrator, steps)
    refused, checked = unescape(r["refused"].text), unescape(r["checked"].text)
    assert r["refused"].status_code == 400
    assert '<html lang="de">' in refused, "the administrator's language"
    assert f"<li>{on_line(OUTSIDE, 3, 'de')}</li>" in refused, "the problem, in German"
    assert r["checked"].status_code == 200
    assert f"<li>{NO_TIMES.render('de')}</li>" in checked, "the preview's note, in German"

    # the command's error: the same English, byte for byte
    with pytest.raises(ImportFileError) as caught:
        await import_responses(
            bad, CYCLE, "csv", load_mapping(None, "csv"), dt.datetime.now(dt.UTC), check_only=True
        )
    assert str(caught.value) == (
        f"{bad}: 1 problem(s), nothing imported:\n"
        "  line 3, column protocol_feasible: '9' is outside 1–5 for protocol_feasible"
    )
    assert caught.value.problems == ((3, OUTSIDE),), "and the same problem, to translate"
    assert caught.value.count == 1
