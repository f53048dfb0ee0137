"""Importing organisations from CSV: all lines or none, errors point at file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.directory.organisation_import import import_organisations
from surveys.directory.organisations import Organisation, TherapeuticArea
from surveys.infra.errors import FileError

pytestmark = pytest.mark.anyio
HEADER = "slug,name,kind,country,network,acts_for,therapeutic_areas\n"


def csv_file(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "orgs.csv"
    path.write_text(HEADER + body)
    return path


async def test_import_creates_links_and_areas_then_updates(db: Engine, tmp_path: Path) -> None:
    path = csv_file(
        tmp_path,
        "lyon-chu,CHU de Lyon,site,fr,alps-net,,oncology; Rare disease\n"
        "alps-net,Alps Network,network,,,,\n"
        "acme,Acme Pharma,sponsor,US,,,cardiology\n"
        "cro-one,CRO One,cro,GB,,acme,\n",
    )
    assert await import_organisations(path) == (4, 0)
    site = await Organisation.objects(Organisation.network).get(Organisation.slug == "lyon-chu")
    assert site.country == "FR" and site.network.slug == "alps-net"
    cro = await Organisation.objects(Organisation.acts_for).get(Organisation.slug == "cro-one")
    assert cro.acts_for.slug == "acme"
    areas = await TherapeuticArea.select(TherapeuticArea.area).where(
        TherapeuticArea.organisation == site.id
    )
    assert sorted(a["area"] for a in areas) == ["oncology", "rare_disease"]
    path.write_text(HEADER + "lyon-chu,Hospices Civils de Lyon,site,FR,,,\n")
    assert await import_organisations(path) == (0, 1)
    site = await Organisation.objects().get(Organisation.slug == "lyon-chu")
    assert site.name == "Hospices Civils de Lyon" and site.network is None


@pytest.mark.parametrize(
    ("body", "line", "field", "problem"),
    [
        (
            "a,A,sponsor,US,,,\nb,B,hospital,US,,,\n",
            3,
            "kind",
            "'hospital' is not one of sponsor, cro, site, network",
        ),
        ("a,A,site,USA,,,\n", 2, "country", "not a two-letter ISO code"),
        ("Bad Slug,A,site,US,,,\n", 2, "slug", "lower-case"),
        ("a,A,site,US,,,\na,B,site,US,,,\n", 3, "slug", "also on line 2"),
        ("a,A,site,US,nowhere,,\n", 2, "network", "'nowhere' is not a network"),
        ("a,A,sponsor,US,,,\nc,C,cro,US,,a-typo,\n", 3, "acts_for", "'a-typo' is not a sponsor"),
        ("a,,site,US,,,\n", 2, "name", "is empty"),
    ],
)
async def test_bad_line_is_named_and_nothing_is_written(
    db: Engine, tmp_path: Path, body: str, line: int, field: str, problem: str
) -> None:
    path = csv_file(tmp_path, body)
    with pytest.raises(FileError) as caught:
        await import_organisations(path)
    assert (caught.value.line, caught.value.field) == (line, field)
    assert problem in caught.value.problem
    assert str(caught.value).startswith(f"{path}:{line}: {field}: ")
    assert await Organisation.count() == 0


async def test_missing_column_is_reported_on_the_header_line(db: Engine, tmp_path: Path) -> None:
    path = tmp_path / "orgs.csv"
    path.write_text("slug,title,kind\na,A,site\n")
    with pytest.raises(FileError, match=r"orgs.csv:1: header: missing column\(s\) name"):
        await import_organisations(path)
