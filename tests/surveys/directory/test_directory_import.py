"""Importing a directory from a CTMS export: matched, previewed, written whole or not at all."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from piccolo.engine.base import Engine

from surveys.directory.audit import Act, AuditEntry
from surveys.directory.directory_import import (
    ChangeSet,
    DirectoryFileError,
    DirectoryMapping,
    apply_directory,
    directory_mapping,
    plan_directory,
    read_directory,
)
from surveys.directory.organisations import (
    Organisation,
    Person,
    Relationship,
    RelationshipContact,
    TherapeuticArea,
)

pytestmark = pytest.mark.anyio
DATA = Path(__file__).resolve().parents[2] / "data"
DOCS = Path(__file__).resolve().parents[3] / "docs" / "examples"
HEADER = "external_id,organisation,kind,country,network,therapeutic_areas,name,email,role,language,sponsor,cro,site\n"
SMALL = (
    "SP-1,Acme Pharma,sponsor,US,,cardiology,,,,,,,\n"
    "CRO-1,Heron CRO,cro,GB,,,,,,,,,\n"
    "S-1,CHU de Lyon,site,FR,Alps Network,Oncology; Rare disease,Dr Ana Roux,Ana@Lyon.example,pi,fr,Acme Pharma,Heron CRO,\n"
    "S-1,CHU de Lyon,site,FR,Alps Network,,Marc Blanc,marc@lyon.example,coordinator,fr,Acme Pharma,Heron CRO,\n"
    "S-2,Klinikum Nord,site,DE,Alps Network,oncology,Dr Eva Berg,eva@nord.example,pi,de,Acme Pharma,,\n"
    "SP-1,Acme Pharma,sponsor,US,,,Sam Lee,sam@acme.example,study_manager,,,,S-1\n"
    "SP-1,Acme Pharma,sponsor,US,,,Sam Lee,sam@acme.example,study_manager,,,,S-2\n"
    "CRO-1,Heron CRO,cro,GB,,,Kim Cole,kim@heron.example,cra,,Acme Pharma,,S-1\n"
)


def act() -> Act:
    return Act("test", dt.datetime.now(dt.UTC))


def canonical(body: str, header: str = HEADER) -> bytes:
    return (header + body).encode()


async def imported(
    data: bytes | Path,
    filename: str = "directory.csv",
    sync: bool = False,
    mapping: DirectoryMapping | None = None,
    file_format: str | None = None,
) -> ChangeSet:
    found = read_directory(data, filename, file_format, mapping or directory_mapping(None))
    return await apply_directory(found, sync, act())


async def problems_of(data: bytes, filename: str = "directory.csv", **options: object) -> list[str]:
    """The problems an import reports, as the command prints them; asserting nothing is written."""
    with pytest.raises(DirectoryFileError) as caught:
        await imported(data, filename, **options)  # type: ignore[arg-type]
    assert await Organisation.count() == 0 and await Person.count() == 0
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("nothing imported")
    return lines[1:]


async def slugs_of(*ids: int) -> dict[int, str]:
    rows = await Organisation.select(Organisation.id, Organisation.slug)
    return {row["id"]: row["slug"] for row in rows if not ids or row["id"] in ids}


async def test_a_canonical_file_creates_the_whole_directory(db: Engine) -> None:
    changes = await imported(canonical(SMALL))
    assert changes.counts()["organisations"] == {
        "new": 5,
        "changed": 0,
        "unchanged": 0,
        "deactivated": 0,
    }
    assert sorted(changes.organisations.new) == [
        "acme-pharma",
        "alps-network",
        "chu-de-lyon",
        "heron-cro",
        "klinikum-nord",
    ]
    assert len(changes.people.new) == 5 and len(changes.relationships.new) == 2
    lyon = await Organisation.objects(Organisation.network).get(Organisation.slug == "chu-de-lyon")
    assert (lyon.external_id, lyon.country, lyon.kind) == ("S-1", "FR", "site")
    assert lyon.network.slug == "alps-network" and lyon.network.kind == "network"
    areas = await TherapeuticArea.select(TherapeuticArea.area).where(
        TherapeuticArea.organisation == lyon.id
    )
    assert sorted(a["area"] for a in areas) == ["oncology", "rare_disease"]
    ana = await Person.objects().get(Person.email == "ana@lyon.example")
    assert (ana.name, ana.role, ana.language, ana.organisation) == (
        "Dr Ana Roux",
        "pi",
        "fr",
        lyon.id,
    )
    slugs = await slugs_of()
    pairs = {
        (slugs[r["sponsor"]], slugs[r["site"]], slugs.get(r["cro"]))
        for r in await Relationship.select()
    }
    assert pairs == {
        ("acme-pharma", "chu-de-lyon", "heron-cro"),
        ("acme-pharma", "klinikum-nord", None),
    }
    contacts = await RelationshipContact.select(
        RelationshipContact.relationship._.site._.slug.as_alias("site"),
        RelationshipContact.person._.email.as_alias("email"),
    )
    assert sorted((c["site"], c["email"]) for c in contacts) == [
        ("chu-de-lyon", "ana@lyon.example"),
        ("chu-de-lyon", "kim@heron.example"),
        ("chu-de-lyon", "marc@lyon.example"),
        ("chu-de-lyon", "sam@acme.example"),
        ("klinikum-nord", "eva@nord.example"),
        ("klinikum-nord", "sam@acme.example"),
    ]
    entry = await AuditEntry.select().where(AuditEntry.action == "directory.import").first()
    assert entry is not None and entry["actor"] == "test"


async def test_importing_the_same_file_again_changes_nothing(db: Engine) -> None:
    await imported(canonical(SMALL))
    again = await imported(canonical(SMALL))
    assert again.changes_nothing
    assert again.organisations.unchanged == 5 and again.people.unchanged == 5
    assert again.relationships.unchanged == 2 and again.contacts_added == 0
    entries = (
        await AuditEntry.select(AuditEntry.detail)
        .where(AuditEntry.action == "directory.import")
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )
    assert len(entries) == 2
    assert entries[1]["detail"]["people"] == {
        "new": 0,
        "changed": 0,
        "unchanged": 5,
        "deactivated": 0,
    }


async def test_a_preview_names_what_changes_and_writes_nothing(db: Engine) -> None:
    await imported(canonical(SMALL))
    renamed = SMALL.replace("CHU de Lyon", "Hospices Civils de Lyon").replace(
        "Marc Blanc,marc@lyon.example,coordinator", "Marc Blanc,marc@lyon.example,site_director"
    )
    preview = await plan_directory(read_directory(canonical(renamed), "directory.csv"))
    assert [(c.key, c.fields) for c in preview.organisations.changed] == [
        ("chu-de-lyon", ("name",))
    ]
    assert [(c.key, c.fields) for c in preview.people.changed] == [("marc@lyon.example", ("role",))]
    assert not preview.organisations.new, "matched by CTMS id, not by its new name"
    assert (
        await Organisation.objects().get(Organisation.external_id == "S-1")
    ).name == "CHU de Lyon"
    await imported(canonical(renamed))
    lyon = await Organisation.objects().get(Organisation.external_id == "S-1")
    assert (lyon.name, lyon.slug) == ("Hospices Civils de Lyon", "chu-de-lyon")


async def test_sync_deactivates_what_is_no_longer_listed_and_a_later_import_reactivates_it(
    db: Engine,
) -> None:
    await imported(canonical(SMALL))
    without_nord = "".join(line + "\n" for line in SMALL.splitlines() if "S-2" not in line)
    kept = await imported(canonical(without_nord))
    assert not kept.organisations.deactivated, "without --sync nothing is deactivated"
    synced = await imported(canonical(without_nord), sync=True)
    assert [c.key for c in synced.organisations.deactivated] == ["klinikum-nord"]
    assert [c.key for c in synced.people.deactivated] == ["eva@nord.example"]
    assert [c.key for c in synced.relationships.deactivated] == ["acme-pharma → klinikum-nord"]
    assert synced.contacts_removed == 2
    nord = await Organisation.objects().get(Organisation.slug == "klinikum-nord")
    eva = await Person.objects().get(Person.email == "eva@nord.example")
    assert not nord.active and not eva.active, "deactivated, never deleted"
    assert await Relationship.count().where(Relationship.active.eq(False)) == 1
    back = await imported(canonical(SMALL), sync=True)
    assert [(c.key, c.fields) for c in back.organisations.changed] == [
        ("klinikum-nord", ("active",))
    ]
    assert [(c.key, c.fields) for c in back.people.changed] == [("eva@nord.example", ("active",))]
    assert back.contacts_added == 2 and not back.people.deactivated
    assert await Organisation.count().where(Organisation.active.eq(False)) == 0
    assert (await imported(canonical(SMALL), sync=True)).changes_nothing


async def test_the_ctms_export_in_the_test_data_imports_with_its_mapping(db: Engine) -> None:
    mapping = directory_mapping(DATA / "ctms_directory.toml")
    changes = await imported(DATA / "ctms_directory.csv", mapping=mapping)
    kinds = {
        kind: await Organisation.count().where(Organisation.kind == kind)
        for kind in ("sponsor", "cro", "site", "network")
    }
    assert kinds == {"sponsor": 3, "cro": 1, "site": 12, "network": 2}
    assert len(changes.people.new) == 40 == await Person.count()
    lyon = await Organisation.objects(Organisation.network).get(
        Organisation.external_id == "S-1001"
    )
    assert (lyon.country, lyon.network.name) == ("FR", "Alpine Oncology Network")
    boston = await Organisation.objects().get(Organisation.external_id == "S-1007")
    assert boston.country == "US", "USA mapped to US"
    pi = await Person.objects().get(Person.email == "amelie.martin@centre01.example")
    assert (pi.role, pi.language, pi.receives_results) == ("pi", "fr", True)
    heron = await Organisation.objects().get(Organisation.kind == "cro")
    through_heron = await Relationship.count().where(Relationship.cro == heron.id)
    assert through_heron == 4
    again = await imported(DATA / "ctms_directory.csv", mapping=mapping)
    assert again.changes_nothing


async def test_the_documented_example_imports_cleanly(db: Engine) -> None:
    mapping = directory_mapping(DOCS / "ctms_site_list.toml")
    changes = await imported(DOCS / "ctms_site_list.csv", mapping=mapping)
    assert len(changes.organisations.new) == 6 and len(changes.relationships.new) == 3
    icop = await Organisation.objects().get(Organisation.external_id == "FR-102")
    cro = await Organisation.objects().get(Organisation.external_id == "CRO-9")
    relationship = await Relationship.objects().get(Relationship.site == icop.id)
    assert relationship.cro == cro.id


async def test_an_excel_csv_with_semicolons_in_a_legacy_code_page_imports(db: Engine) -> None:
    text = (
        (HEADER + SMALL)
        .replace("Oncology; Rare", '"Oncology; Rare')
        .replace("disease,", 'disease",')
    )
    text = text.replace(",", ";").replace("CHU de Lyon", "Hôpital Édouard Herriot")
    changes = await imported(text.replace("\n", "\r\n").encode("cp1252"))
    assert "hopital-edouard-herriot" in changes.organisations.new
    site = await Organisation.objects().get(Organisation.external_id == "S-1")
    assert site.name == "Hôpital Édouard Herriot"


@pytest.mark.parametrize(
    ("delimiter", "encoding"), [("\t", "utf-16"), (",", "utf-16"), (",", "utf-16-le")]
)
async def test_a_utf16_csv_imports(db: Engine, delimiter: str, encoding: str) -> None:
    text = (HEADER + SMALL).replace(",", delimiter)
    changes = await imported(text.encode(encoding))
    assert len(changes.people.new) == 5


async def test_an_xlsx_workbook_imports(db: Engine, tmp_path: Path) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for line in (HEADER + SMALL).replace("CRO-1", "9001").splitlines():
        # the CRO's id typed as a number, which the workbook stores as 9001.0
        sheet.append([float(cell) if cell.isdigit() else cell for cell in line.split(",")])
    path = tmp_path / "directory.xlsx"
    book.save(path)
    changes = await imported(path, filename=str(path))
    assert len(changes.organisations.new) == 5 and len(changes.people.new) == 5
    cro = await Organisation.objects().get(Organisation.external_id == "9001")
    assert cro.slug == "heron-cro"


async def test_merged_and_repeated_headings_of_a_workbook_are_refused(
    db: Engine, tmp_path: Path
) -> None:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["organisation", "Contact", "", "email", "email"])
    sheet.append(["CHU de Lyon", "Ana", "Roux", "ana@lyon.example", "x@lyon.example"])
    sheet.merge_cells("B1:C1")
    path = tmp_path / "merged.xlsx"
    book.save(path)
    assert await problems_of(path.read_bytes(), "merged.xlsx") == [
        "merged.xlsx:1: column B1:C1: merged heading cells: give each column its own heading"
    ]
    sheet.unmerge_cells("B1:C1")
    sheet["C1"] = "name"
    book.save(path)
    lines = await problems_of(path.read_bytes(), "repeated.xlsx")
    assert lines[0] == "repeated.xlsx:1: column email (E): repeated heading: also column D"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        pytest.param(
            "S-1,CHU de Lyon,site,FR,,,Ana,ana@x.example,pi,,,,\n"
            "S-2,Klinikum Nord,site,DE,,,Ana,ANA@x.example,pi,,,,\n",
            "directory.csv:3: column email: ana@x.example is also on line 2, at CHU de Lyon; "
            "a person belongs to one organisation, not also to Klinikum Nord",
            id="e-mail-at-two-organisations",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,FR,,,Ana Roux,ana@x.example,pi,,,,\n"
            "S-1,CHU de Lyon,site,FR,,,Anna Roux,ana@x.example,pi,,,,\n",
            "directory.csv:3: column name: 'Anna Roux' differs from 'Ana Roux' on line 2 "
            "for the same person (ana@x.example)",
            id="e-mail-with-two-names",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,FR,,,Ana,ana@x.example,pi,,Acme Pharma,,\n",
            "directory.csv:2: column sponsor: no organisation 'Acme Pharma' in this file or "
            "the directory",
            id="unknown-sponsor",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,FR,Alps,,,,,,,,\nS-1,CHU de Lyon,site,FR,Rhône,,,,,,,,\n",
            "directory.csv:3: column network: 'Rhône' differs from 'Alps' on line 2 for the "
            "same organisation (S-1)",
            id="site-in-two-networks",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,XX,,,,,,,,,\n",
            "directory.csv:2: column country: 'XX' is not an ISO 3166 two-letter country code",
            id="unknown-country",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,FR,,,Ana,ana@x.example,nurse,,,,\n",
            "directory.csv:2: column role: 'nurse' is not a role; roles: pi, coordinator, "
            "site_director, cra, study_manager, relationship_manager, executive",
            id="unknown-role",
        ),
        pytest.param(
            "SP-1,Acme Pharma,sponsor,US,,,Ana,ana@x.example,pi,,,,\n",
            "directory.csv:2: column role: a pi works at a site, not at a sponsor",
            id="site-role-at-a-sponsor",
        ),
        pytest.param(
            f"S-1,CHU de Lyon,site,FR,,{'Oncology ' * 8},,,,,,,\n",
            "directory.csv:2: column therapeutic_areas: an area is longer than 60 characters",
            id="area-too-long",
        ),
        pytest.param(
            "S-1,CHU de Lyon,site,FR,,,Ana,not-an-address,pi,,,,\n",
            "directory.csv:2: column email: 'not-an-address' is not an e-mail address",
            id="bad-e-mail",
        ),
        pytest.param(
            "SP-1,Acme Pharma,sponsor,US,,,,,,,,,\nS-1,CHU de Lyon,site,FR,Acme Pharma,,,,,,,,\n",
            "directory.csv:3: column network: 'Acme Pharma' is a sponsor, not a network",
            id="network-that-is-a-sponsor",
        ),
    ],
)
async def test_a_bad_row_is_named_by_line_and_column_and_nothing_is_written(
    db: Engine, body: str, expected: str
) -> None:
    lines = await problems_of(canonical(body))
    assert any(line.startswith(expected) for line in lines), lines


async def test_every_problem_is_listed_and_one_bad_row_stops_the_whole_file(db: Engine) -> None:
    body = SMALL + (
        "S-3,Clinique Sud,site,ZZ,,,Zoe,zoe@sud.example,doctor,,Acme Pharma,,\n"
        "S-4,Clinique Est,site,FR,,,Yann,yann@est.example,pi,,Umbrella Corp,,\n"
    )
    lines = await problems_of(canonical(body))
    assert lines == [
        "directory.csv:10: column country: 'ZZ' is not an ISO 3166 two-letter country code",
        "directory.csv:10: column role: 'doctor' is not a role; roles: pi, coordinator, "
        "site_director, cra, study_manager, relationship_manager, executive",
        "directory.csv:11: column sponsor: no organisation 'Umbrella Corp' in this file or "
        "the directory",
    ]
    assert await Relationship.count() == 0 and await AuditEntry.count() == 0


async def test_an_e_mail_stored_at_another_organisation_names_both(db: Engine) -> None:
    await imported(canonical(SMALL))
    moved = "S-2,Klinikum Nord,site,DE,,,Dr Ana Roux,ana@lyon.example,pi,,,,\n"
    found = read_directory(canonical(moved), "directory.csv")
    with pytest.raises(DirectoryFileError) as caught:
        await plan_directory(found)
    assert str(caught.value).splitlines()[1] == (
        "directory.csv:2: column email: ana@lyon.example is already Dr Ana Roux's, at "
        "CHU de Lyon; this file puts them at Klinikum Nord"
    )


async def test_an_organisation_already_named_by_a_row_elsewhere_is_found_there(
    db: Engine,
) -> None:
    await imported(canonical(SMALL))
    later = "S-9,Clinique Neuve,site,FR,,,Lea,lea@neuve.example,pi,,SP-1,CRO-1,\n"
    changes = await imported(canonical(later))
    assert changes.organisations.new == ("clinique-neuve",)
    assert [r for r in changes.relationships.new] == ["acme-pharma → clinique-neuve"]


async def test_line_numbers_are_the_files_own_lines(db: Engine) -> None:
    body = (
        '"S-1","CHU de Lyon","site","FR","","","Ana","ana@x.example","pi","","","","",\n'
    ).replace('"pi","",', '"pi","a note\nover two lines",')
    text = HEADER.replace("language", "language") + "\n" + body
    text += "S-2,Klinikum Nord,site,DE,,,Eva,eva@x.example,boss,,,,\n"
    lines = await problems_of(text.encode())
    assert lines[-1].startswith("directory.csv:5: column role: 'boss' is not a role")


@pytest.mark.parametrize(
    ("data", "filename", "expected"),
    [
        (b"", "directory.csv", "directory.csv: the file is empty"),
        (b"\xef\xbb\xbf\r\n\r\n", "directory.csv", "directory.csv: the file is empty"),
        (HEADER.encode(), "directory.csv", "directory.csv: the file has headings but no rows"),
        (
            bytes(range(256)) * 4,
            "directory.csv",
            "directory.csv: not a readable CSV file: ",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 40,
            "directory.csv",
            "directory.csv: this is an Excel workbook, not CSV: import it with --format xlsx",
        ),
        (
            b"PK\x03\x04" + b"\x00" * 40,
            "directory.xlsx",
            "directory.xlsx: not a readable XLSX workbook",
        ),
        (
            b"\xd0\xcf\x11\xe0rest",
            "directory.xls",
            "directory.xls: this is an old Excel .xls workbook: save it as .xlsx or CSV",
        ),
        (
            b"organisation,emial\nCHU,a@b.example\n",
            "directory.csv",
            "directory.csv:1: column emial: unknown column; columns: external_id,",
        ),
    ],
)
async def test_an_unreadable_file_gets_one_clear_problem(
    db: Engine, data: bytes, filename: str, expected: str
) -> None:
    lines = await problems_of(data, filename)
    assert lines[0].startswith(expected), lines


async def test_a_mapping_names_its_own_mistakes(tmp_path: Path) -> None:
    path = tmp_path / "map.toml"
    path.write_text(
        '[columns]\nemial = "Email"\n[values.role]\n"PI" = 1\n[values.network]\n"x" = "y"\n[extra]\n'
    )
    with pytest.raises(DirectoryFileError) as caught:
        directory_mapping(path)
    assert str(caught.value).splitlines()[1:] == [
        f"{path}: columns.emial: unknown field; fields: external_id, organisation, kind, "
        "country, network, therapeutic_areas, acts_for, name, first_name, last_name, email, "
        "role, language, receives_results, sponsor, cro, site",
        f"{path}: extra: unknown table; tables: columns, values, defaults",
        f"{path}: values.network: fields with codes: kind, country, role, language, "
        "receives_results",
        f"{path}: values.role.PI: must be text, not 1",
    ]


async def test_a_column_the_mapping_names_must_be_in_the_file(db: Engine) -> None:
    mapping = directory_mapping('[columns]\norganisation = "Institution"\nemail = "E-mail"\n')
    lines = await problems_of(b"Institution,Email\nCHU,a@b.example\n", mapping=mapping)
    assert lines == ["directory.csv:1: column E-mail: no such column (the mapping's email)"]


async def test_a_mapping_gives_defaults_for_a_single_sponsors_site_list(db: Engine) -> None:
    await imported(canonical("SP-1,Acme Pharma,sponsor,US,,,,,,,,,\n"))
    mapping = directory_mapping(
        '[columns]\norganisation = "Site"\nemail = "Mail"\nname = "Investigator"\n'
        'role = "Function"\n[defaults]\nsponsor = "SP-1"\nrole = "pi"\n'
        '[values.role]\n"Sub-Investigator" = "coordinator"\n'
    )
    body = (
        "Site,Investigator,Mail,Function,Budget\n"
        "CHU de Lyon,Ana Roux,ana@lyon.example,,12000\n"
        "CHU de Lyon,Marc Blanc,marc@lyon.example,sub-investigator,\n"
    )
    changes = await imported(body.encode(), mapping=mapping)
    assert changes.relationships.new == ("acme-pharma → chu-de-lyon",)
    roles = {p["email"]: p["role"] for p in await Person.select(Person.email, Person.role)}
    assert roles == {"ana@lyon.example": "pi", "marc@lyon.example": "coordinator"}
    assert changes.contacts_added == 2


async def test_a_column_the_file_lacks_keeps_what_is_stored(db: Engine) -> None:
    await imported(canonical(SMALL))
    header = HEADER.replace(",language", "").replace(",therapeutic_areas", "")
    body = "".join(
        ",".join(cells[:5] + cells[6:9] + cells[10:]) + "\n"
        for cells in (line.split(",") for line in SMALL.splitlines())
    )
    changes = await plan_directory(read_directory(canonical(body, header), "directory.csv"))
    assert changes.changes_nothing, changes.lines()


def test_the_command_lists_every_problem_and_previews_without_writing(
    db: Engine, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from surveys.cli._run import RapportGroup
    from surveys.cli.directory import directory
    from tests.conftest import url_of

    monkeypatch.setenv("DATABASE_URL", url_of(db))
    rapport = RapportGroup()
    rapport.add_command(directory)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(
        canonical(SMALL + "S-3,Clinique Sud,site,ZZ,,,Zoe,zoe@sud.example,doctor,,,,\n")
    )
    result = CliRunner().invoke(rapport, ["directory", "import", str(bad)])
    assert result.exit_code == 1
    assert result.output.splitlines() == [
        f"{bad}:10: column country: 'ZZ' is not an ISO 3166 two-letter country code",
        f"{bad}:10: column role: 'doctor' is not a role; roles: pi, coordinator, "
        "site_director, cra, study_manager, relationship_manager, executive",
        f"Error: {bad}: 2 problems; nothing imported",
    ]
    good = tmp_path / "good.csv"
    good.write_bytes(canonical(SMALL))
    preview = CliRunner().invoke(rapport, ["directory", "import", str(good), "--dry-run"])
    assert preview.exit_code == 0, preview.output
    assert "organisations: 5 new, 0 changed, 0 unchanged" in preview.output
    assert "Dry run: nothing was written." in preview.output
    done = CliRunner().invoke(rapport, ["directory", "import", str(good)])
    assert done.exit_code == 0 and "people: 5 new" in done.output
    again = CliRunner().invoke(rapport, ["directory", "import", str(good), "--sync"])
    assert "nothing changed" in again.output
