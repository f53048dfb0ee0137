"""The API against its own OpenAPI schema: the schema validates, and a property-based run of
every workspace route (schemathesis, requests generated from the schema) finds no server
error and no response that breaks the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any

import anyio
import pytest
from piccolo.engine.base import Engine

pytestmark = pytest.mark.anyio


async def test_every_workspace_route_keeps_to_its_schema(
    server: str, scored_world_db: Engine
) -> None:
    import schemathesis
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
    )

    from surveys.accounts.credentials import GrantRole, create_account, new_api_token
    from surveys.cycles.cycle import Cycle
    from surveys.directory.organisations import Person, Relationship

    now = dt.datetime.now(dt.UTC)
    person = await Person.select(Person.email).first()
    account = await create_account(person["email"], [(GrantRole.administrator, None)], now)
    token = await new_api_token(account, "schemathesis", now)
    tie = (
        await Relationship.select(
            Relationship.sponsor.slug.as_alias("sponsor"),
            Relationship.site.slug.as_alias("site"),
            Relationship.site.network.slug.as_alias("network"),
        )
        .where(Relationship.site.network.is_not_null())
        .first()
    )
    cycle = await Cycle.select(Cycle.key).first()
    real = {"sponsor": tie["sponsor"], "site": tie["site"], "key": cycle["key"]}
    slug_of = {"/api/sites/": tie["site"], "/api/networks/": tie["network"]}
    schema = schemathesis.openapi.from_url(f"{server}/schema/openapi.json")
    listed = set(schema.raw_schema["paths"])
    assert listed and all(p.startswith("/api/") or p == "/healthz" for p in listed), (
        "the API reference lists the API, not the pages and their forms"
    )
    checks = [not_a_server_error, content_type_conformance, response_schema_conformance]
    tried: list[str] = []

    def exercise(operation: Any) -> None:
        """Many requests to one operation; half name organisations that exist, so the
        queries behind them are fuzzed too, not only the 404 of an unknown slug."""
        slug = next((s for p, s in slug_of.items() if operation.path.startswith(p)), tie["sponsor"])

        def on_real_data(case: Any) -> Any:
            case.path_parameters = {
                name: slug if name == "slug" else real[name] for name in case.path_parameters
            }
            return case

        cases = operation.as_strategy()

        @given(case=st.one_of(cases, cases.map(on_real_data)))
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def keeps_to_schema(case: Any) -> None:
            case.call_and_validate(
                base_url=server, headers={"Authorization": f"Bearer {token}"}, checks=checks
            )

        keeps_to_schema()

    def run() -> None:
        for found in schema.get_all_operations():
            operation = found.ok()
            if not operation.path.startswith("/api/") or (
                operation.path.startswith("/api/cycles") and operation.method.upper() != "GET"
            ):
                continue  # fuzzing would open and close cycles and e-mail everyone: test_api.py
            tried.append(operation.label)
            exercise(operation)

    await anyio.to_thread.run_sync(run)
    assert len(tried) == 14, tried
