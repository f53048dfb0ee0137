"""The console's directory: organisations, people and relationships listed, searched,
created, edited and deactivated, through the same functions as `rapport directory`."""

from __future__ import annotations

from typing import Any, Literal

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from surveys.accounts.policy import Viewer
from surveys.cycles.letters import address_corrected
from surveys.directory.editing import (
    DirectoryEditError,
    OrganisationFields,
    PersonFields,
    create_organisation,
    create_person,
    create_relationship,
    set_contacts,
    set_organisation_active,
    set_person_active,
    set_relationship_active,
    update_organisation,
    update_person,
)
from surveys.directory.listing import (
    choices,
    organisation_record,
    organisations_page,
    people_page,
    person_record,
    relationship_record,
    relationships_page,
)
from surveys.directory.organisations import OrgKind, Role, organisation_with_slug
from surveys.directory.rules import (
    DirectoryValueError,
    country_code,
    kind_of,
    language_of,
    normal_email,
    role_of,
)
from surveys.infra.i18n import LANGUAGES, N_, Text
from surveys.infra.numbers import whole_number
from surveys.web.admin._common import (
    PageNumber,
    acting,
    done,
    form_of,
    listing,
    many,
    notice_of,
    optional_int,
    page,
    refused,
    switched,
)
from surveys.web.auth import RecordId
from surveys.web.contexts._forms import refusal
from surveys.web.reach import administrators_only

Status = Literal["active", "inactive", "all"]
ACTIVE: dict[str, bool | None] = {"active": True, "inactive": False, "all": None}
Any_Request = Request[Any, Any, Any]


def _organisation_fields(form: dict[str, Any]) -> OrganisationFields:
    """The organisation a form describes; DirectoryEditError names the field at fault."""
    try:
        kind = kind_of(form.get("kind", ""))
    except DirectoryValueError as error:
        raise DirectoryEditError.of("kind", error) from None
    try:
        country = country_code(form.get("country", ""))
    except DirectoryValueError as error:
        raise DirectoryEditError.of("country", error) from None
    areas = tuple(
        a.strip().lower().replace(" ", "_")
        for a in form.get("areas", "").replace(",", ";").split(";")
        if a.strip()
    )
    return OrganisationFields(
        name=form.get("name", ""),
        kind=kind,
        country=country,
        network=optional_int(form.get("network")),
        acts_for=optional_int(form.get("acts_for")),
        external_id=form.get("external_id") or None,
        areas=areas,
    )


def _person_fields(form: dict[str, Any]) -> PersonFields:
    """The person a form describes; DirectoryEditError names the field at fault."""
    checks = (("email", normal_email), ("role", role_of), ("language", language_of))
    parsed: dict[str, Any] = {}
    for name, check in checks:
        try:
            parsed[name] = check(form.get(name, ""))
        except DirectoryValueError as error:
            raise DirectoryEditError.of(name, error) from None
    organisation = optional_int(form.get("organisation"))
    if organisation is None:
        raise DirectoryEditError("organisation", N_("choose the person's organisation"))
    receives = {"yes": True, "no": False}.get(form.get("receives_results", ""))
    return PersonFields(
        name=form.get("name", ""),
        organisation=organisation,
        receives_results=receives,
        **parsed,
    )


async def _organisation_choices() -> dict[str, Any]:
    return {
        "kinds": [k.value for k in OrgKind],
        "networks": await choices(OrgKind.network),
        "sponsors": await choices(OrgKind.sponsor),
        "cros": await choices(OrgKind.cro),
    }


class DirectoryConsole(Controller):
    """Organisations, people and relationships (administrators only; others get 404)."""

    path = "/admin"
    guards = (administrators_only,)

    @get("/organisations", name="admin-organisations")
    async def organisations(
        self,
        request: Any_Request,
        viewer: NamedDependency[Viewer],
        search: FromQuery[str] = "",
        kind: FromQuery[OrgKind | None] = None,
        status: FromQuery[Status] = "active",
        page_number: PageNumber = 1,
    ) -> Template:
        """Every organisation, searched and filtered, by name."""
        query = {"search": search, "kind": kind.value if kind else "", "status": status}
        found = await listing(
            organisations_page, query, page_number, search=search, kind=kind, active=ACTIVE[status]
        )
        return page(
            "organisations",
            viewer,
            "directory",
            N_("Organisations"),
            data={"list": found, "kinds": [k.value for k in OrgKind]},
            form=query,
            notice=notice_of(request),
        )

    @get("/organisations/new", name="admin-organisation-new")
    async def new_organisation(self, viewer: NamedDependency[Viewer]) -> Template:
        return page(
            "organisation",
            viewer,
            "directory",
            N_("New organisation"),
            data=await _organisation_choices(),
            form={"kind": "site"},
        )

    @post("/organisations/new", name="admin-organisation-create")
    async def create_organisation(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            made = await create_organisation(_organisation_fields(form), acting(viewer))
        except DirectoryEditError as error:
            return refused(
                "organisation",
                viewer,
                "directory",
                N_("New organisation"),
                error,
                data=await _organisation_choices(),
                form=form,
            )
        return done(f"/admin/organisations/{made}", "created")

    @get("/organisations/{organisation_id:int}", name="admin-organisation")
    async def organisation(
        self, request: Any_Request, organisation_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template:
        record = await organisation_record(organisation_id)
        if record is None:
            raise NotFoundException("no such organisation")
        form = {
            **record,
            "areas": "; ".join(record["areas"]),
            "country": record["country"] or "",
            "network": str(record["network"] or ""),
            "acts_for": str(record["acts_for"] or ""),
            "external_id": record["external_id"] or "",
        }
        return page(
            "organisation",
            viewer,
            "directory",
            record["name"],
            data={**await _organisation_choices(), "record": record},
            form=form,
            notice=notice_of(request),
        )

    @post("/organisations/{organisation_id:int}", name="admin-organisation-save")
    async def save_organisation(
        self, request: Any_Request, organisation_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        record = await organisation_record(organisation_id)
        if record is None:
            raise NotFoundException("no such organisation")
        form = await form_of(request)
        try:
            fields = _organisation_fields({**form, "kind": record["kind"]})
            await update_organisation(organisation_id, fields, acting(viewer))
        except DirectoryEditError as error:
            return refused(
                "organisation",
                viewer,
                "directory",
                record["name"],
                error,
                data={**await _organisation_choices(), "record": record},
                form={**form, "kind": record["kind"]},
            )
        return done(f"/admin/organisations/{organisation_id}", "saved")

    @post("/organisations/{organisation_id:int}/active", name="admin-organisation-active")
    async def organisation_active(
        self, request: Any_Request, organisation_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Redirect:
        return await switched(
            request,
            viewer,
            f"/admin/organisations/{organisation_id}",
            lambda active, act: set_organisation_active(organisation_id, active, act),
            DirectoryEditError,
            "organisation",
        )

    @get("/people", name="admin-people")
    async def people(
        self,
        request: Any_Request,
        viewer: NamedDependency[Viewer],
        search: FromQuery[str] = "",
        organisation: FromQuery[int | None] = None,
        role: FromQuery[Role | None] = None,
        status: FromQuery[Status] = "active",
        page_number: PageNumber = 1,
    ) -> Template:
        """Everyone in the directory, searched and filtered, by name."""
        query = {
            "search": search,
            "organisation": str(organisation or ""),
            "role": role.value if role else "",
            "status": status,
        }
        found = await listing(
            people_page,
            query,
            page_number,
            search=search,
            organisation=organisation,
            role=role.value if role else None,
            active=ACTIVE[status],
        )
        return page(
            "people",
            viewer,
            "directory",
            N_("People"),
            data={"list": found, "roles": [r.value for r in Role]},
            form=query,
            notice=notice_of(request),
        )

    @get("/people/new", name="admin-person-new")
    async def new_person(
        self, viewer: NamedDependency[Viewer], organisation: FromQuery[int | None] = None
    ) -> Template:
        return page(
            "person",
            viewer,
            "directory",
            N_("New person"),
            data=await _person_choices(organisation),
            form={"organisation": str(organisation or ""), "language": "en", "role": ""},
        )

    @post("/people/new", name="admin-person-create")
    async def create_person(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            made = await create_person(_person_fields(form), acting(viewer))
        except DirectoryEditError as error:
            return refused(
                "person",
                viewer,
                "directory",
                N_("New person"),
                error,
                data=await _person_choices(optional_int(form.get("organisation"))),
                form=form,
            )
        return done(f"/admin/people/{made}", "created")

    @get("/people/{person_id:int}", name="admin-person")
    async def person(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template:
        record = await person_record(person_id)
        if record is None:
            raise NotFoundException("no such person")
        receives = {True: "yes", False: "no", None: ""}[record["receives_results"]]
        form = {**record, "organisation": str(record["organisation"]), "receives_results": receives}
        return page(
            "person",
            viewer,
            "directory",
            record["name"],
            data={**await _person_choices(record["organisation"]), "record": record},
            form=form,
            notice=notice_of(request),
        )

    @post("/people/{person_id:int}", name="admin-person-save")
    async def save_person(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        record = await person_record(person_id)
        if record is None:
            raise NotFoundException("no such person")
        form = await form_of(request)
        try:
            if await update_person(person_id, _person_fields(form), acting(viewer)):
                await address_corrected(person_id)  # refused letters may go to the new one
        except DirectoryEditError as error:
            return refused(
                "person",
                viewer,
                "directory",
                record["name"],
                error,
                data={**await _person_choices(record["organisation"]), "record": record},
                form=form,
            )
        return done(f"/admin/people/{person_id}", "saved")

    @post("/people/{person_id:int}/active", name="admin-person-active")
    async def person_active(
        self, request: Any_Request, person_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Redirect:
        return await switched(
            request,
            viewer,
            f"/admin/people/{person_id}",
            lambda active, act: set_person_active(person_id, active, act),
            DirectoryEditError,
            "person",
        )

    @get("/relationships", name="admin-relationships")
    async def relationships(
        self,
        request: Any_Request,
        viewer: NamedDependency[Viewer],
        search: FromQuery[str] = "",
        sponsor: FromQuery[int | None] = None,
        status: FromQuery[Status] = "active",
        page_number: PageNumber = 1,
    ) -> Template:
        """Every relationship, searched and filtered, by sponsor and site."""
        query = {"search": search, "sponsor": str(sponsor or ""), "status": status}
        found = await listing(
            relationships_page,
            query,
            page_number,
            search=search,
            sponsor=sponsor,
            active=ACTIVE[status],
        )
        return page(
            "relationships",
            viewer,
            "directory",
            N_("Relationships"),
            data={"list": found, "sponsors": await choices(OrgKind.sponsor)},
            form=query,
            notice=notice_of(request),
        )

    @get("/relationships/new", name="admin-relationship-new")
    async def new_relationship(self, viewer: NamedDependency[Viewer]) -> Template:
        return page(
            "relationship_new",
            viewer,
            "directory",
            N_("New relationship"),
            data={
                "sponsors": await choices(OrgKind.sponsor),
                "cros": await choices(OrgKind.cro),
            },
        )

    @post("/relationships/new", name="admin-relationship-create")
    async def create_relationship(
        self, request: Any_Request, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        form = await form_of(request)
        try:
            site = await organisation_with_slug(form.get("site", ""), OrgKind.site)
            if site is None:
                raise DirectoryEditError(
                    "site", N_("no site has the short name %(slug)r"), slug=form.get("site")
                )
            sponsor = optional_int(form.get("sponsor"))
            if sponsor is None:
                raise DirectoryEditError("sponsor", N_("choose the sponsor"))
            made = await create_relationship(
                sponsor, site, optional_int(form.get("cro")), acting(viewer)
            )
        except DirectoryEditError as error:
            return page(
                "relationship_new",
                viewer,
                "directory",
                N_("New relationship"),
                400,
                data={
                    "sponsors": await choices(OrgKind.sponsor),
                    "cros": await choices(OrgKind.cro),
                },
                form=form,
                error=refusal(error),
                error_field=error.field,
            )
        return done(f"/admin/relationships/{made}", "created")

    @get("/relationships/{relationship_id:int}", name="admin-relationship")
    async def relationship(
        self, request: Any_Request, relationship_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template:
        record = await relationship_record(relationship_id)
        if record is None:
            raise NotFoundException("no such relationship")
        title = _relationship_title(record)
        return page(
            "relationship",
            viewer,
            "directory",
            title,
            data={"record": record},
            notice=notice_of(request),
        )

    @post("/relationships/{relationship_id:int}/contacts", name="admin-relationship-contacts")
    async def relationship_contacts(
        self, request: Any_Request, relationship_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Template | Redirect:
        record = await relationship_record(relationship_id)
        if record is None:
            raise NotFoundException("no such relationship")
        picked = (whole_number(p) for p in many(await form_of(request), "contact"))
        chosen = [p for p in picked if p is not None]
        try:
            await set_contacts(relationship_id, chosen, acting(viewer))
        except DirectoryEditError as error:
            title = _relationship_title(record)
            return refused(
                "relationship",
                viewer,
                "directory",
                title,
                error,
                data={"record": record},
            )
        return done(f"/admin/relationships/{relationship_id}", "saved")

    @post("/relationships/{relationship_id:int}/active", name="admin-relationship-active")
    async def relationship_active(
        self, request: Any_Request, relationship_id: RecordId, viewer: NamedDependency[Viewer]
    ) -> Redirect:
        return await switched(
            request,
            viewer,
            f"/admin/relationships/{relationship_id}",
            lambda active, act: set_relationship_active(relationship_id, active, act),
            DirectoryEditError,
            "relationship",
        )


def _relationship_title(record: dict[str, Any]) -> Text:
    """A relationship's page title: its sponsor and its site, by name."""
    return Text(
        N_("%(sponsor)s and %(site)s"),
        {"sponsor": record["sponsor_name"], "site": record["site_name"]},
    )


async def _person_choices(organisation: int | None) -> dict[str, Any]:
    """What the person form offers: roles, languages, and the organisations people work at."""
    organisations = [
        *await choices(OrgKind.site),
        *await choices(OrgKind.sponsor),
        *await choices(OrgKind.cro),
    ]
    return {
        "roles": [r.value for r in Role],
        "languages": LANGUAGES,
        "organisations": sorted(organisations, key=lambda c: c.name),
        "organisation": organisation,
    }
