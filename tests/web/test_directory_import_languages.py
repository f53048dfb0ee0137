"""The console's directory import in its reader's language: each problem's reason and the
preview's lines translated, while the command prints the same English as ever."""

from __future__ import annotations

import datetime as dt
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import AsyncTestClient
from piccolo.engine.base import Engine

from surveys.infra.i18n import N_, Text
from tests.web.test_survey_form import CSRF, in_browser
from tests.web.test_workspaces import sign_in

HEADER = "organisation,kind,name,email,role\n"
BAD = HEADER + "Acme Pharma,sponsor,Pat Doe,pat@acme.example,pi\n"
"""Line 2 puts a principal investigator at a sponsor."""
GOOD = HEADER + "Acme Pharma,sponsor,Pat Doe,pat@acme.example,study_manager\n"
WRONG_ROLE = Text(
    N_("a %(role)s works at a site, not at a %(kind)s"), {"role": "pi", "kind": "sponsor"}
)
COUNTS = Text(
    N_("organisations: %(new)s new, %(changed)s changed, %(unchanged)s unchanged"),
    {"new": 1, "changed": 0, "unchanged": 0},
)
NAMED = Text(N_("new: %(records)s"), {"records": "acme-pharma"})


@pytest.mark.anyio
async def test_a_french_administrator_reads_the_problems_and_the_preview_in_french(
    db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from surveys.accounts.administration import create_first_administrator
    from surveys.accounts.credentials import set_password
    from surveys.directory.audit import Act
    from surveys.directory.organisations import OrgKind, Person
    from surveys.world.logins import DEMO_PASSWORD

    monkeypatch.setenv("RAPPORT_VAR_DIR", str(tmp_path))
    act = Act("test", dt.datetime.now(dt.UTC))
    made = await create_first_administrator(
        "ada@operator.example", "Ada Admin", "Programme Office", OrgKind.sponsor, act
    )
    await set_password(made.account_id, DEMO_PASSWORD)
    await Person.update({Person.language: "fr"}).where(Person.email == "ada@operator.example")

    async def steps(client: AsyncTestClient[Any]) -> dict[str, Any]:
        await sign_in(client, "ada@operator.example")
        page = await client.get("/admin/directory/import/")
        token = CSRF.search(page.text).group(1)  # type: ignore[union-attr]

        async def upload(content: str) -> Any:
            return await client.post(
                "/admin/directory/import/",
                data={"_csrf_token": token},
                files={"file": ("directory.csv", content.encode(), "text/csv")},
            )

        refused = await upload(BAD)
        preview = await upload(GOOD)
        return locals()

    r = await in_browser(db, steps)
    refused, preview = unescape(r["refused"].text), unescape(r["preview"].text)
    assert r["refused"].status_code == 400
    assert '<html lang="fr">' in refused, "the administrator's language"
    assert '<th scope="col">Colonne</th>' in refused, "the table's headings"
    assert '<td class="num">2</td><td>role</td>' in refused, "the line and the column as typed"
    assert f"<td>{WRONG_ROLE.render('fr')}</td>" in refused, "the reason in French"
    assert r["preview"].status_code == 200
    assert f"<li>{COUNTS.render('fr')}</li>" in preview, "the preview's lines in French"
    assert f"<li>{NAMED.render('fr')}</li>" in preview, "the records named, in French"


def test_the_command_prints_the_same_english(
    db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from surveys.cli._run import RapportGroup
    from surveys.cli.directory import directory
    from tests.conftest import url_of

    monkeypatch.setenv("DATABASE_URL", url_of(db))
    rapport = RapportGroup()
    rapport.add_command(directory)
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_text(BAD, encoding="utf-8")
    good.write_text(GOOD, encoding="utf-8")
    refused = CliRunner().invoke(rapport, ["directory", "import", str(bad)])
    assert refused.exit_code == 1
    assert refused.output.splitlines() == [
        f"{bad}:2: column role: a pi works at a site, not at a sponsor",
        f"Error: {bad}: 1 problem; nothing imported",
    ]
    preview = CliRunner().invoke(rapport, ["directory", "import", str(good), "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert preview.output.splitlines() == [
        "organisations: 1 new, 0 changed, 0 unchanged",
        "  new: acme-pharma",
        "people: 1 new, 0 changed, 0 unchanged",
        "  new: pat@acme.example",
        "relationships: 0 new, 0 changed, 0 unchanged",
        "contacts: 0 added",
        "Dry run: nothing was written.",
    ]
