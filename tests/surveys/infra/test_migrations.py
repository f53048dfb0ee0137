"""The schema: migrations apply from nothing on both engines, and none is pending."""

from __future__ import annotations

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager

from surveys.infra.database import apply_migrations, prepare
from surveys.piccolo_app import APP_CONFIG
from tests.conftest import engine_at

pytestmark = pytest.mark.anyio


async def test_migrations_create_every_table_on_a_fresh_database(
    blank_url: str, engine_kind: str
) -> None:
    location = (
        blank_url.split("///", 1)[1] if engine_kind == "sqlite" else blank_url.rsplit("/", 1)[1]
    )
    engine = engine_at(engine_kind, location)
    await prepare(engine)
    applied = await apply_migrations()
    assert applied, "at least one migration should be recorded"
    for table in APP_CONFIG.table_classes:
        assert await table.table_exists(), f"{table._meta.tablename} was not created"
    # a second run is a no-op, not an error
    assert await apply_migrations() == applied


async def test_no_auto_migration_is_pending() -> None:
    statements = await AutoMigrationManager().get_alter_statements(app_config=APP_CONFIG)
    pending = [s for group in statements for s in group.statements]
    assert pending == [], (
        "tables differ from migrations/: run `piccolo migrations new surveys --auto`"
    )
