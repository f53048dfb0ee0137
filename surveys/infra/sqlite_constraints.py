"""Make Piccolo's table constraints work on SQLite.

Piccolo 1.38 creates `Unique` and `Check` constraints with `ALTER TABLE … ADD
CONSTRAINT` after `CREATE TABLE`, which SQLite does not support ("near CONSTRAINT:
syntax error"), so an auto-migration with constraints cannot run on SQLite. SQLite does
accept the same named constraints inside `CREATE TABLE`; this module moves them there
when the engine is SQLite and leaves PostgreSQL's DDL untouched.

Limits: this covers constraints of new tables (all Rapport has). SQLite can never add a
constraint to an existing table; a later migration that does so needs a table rebuild.
"""

from __future__ import annotations

from piccolo.query.methods.create import Create

_piccolo_ddl = Create.ddl


def _ddl_with_inline_constraints(self: Create) -> list[str]:
    statements: list[str] = list(_piccolo_ddl.fget(self))  # type: ignore[attr-defined]
    meta = self.table._meta
    if meta.db.engine_type != "sqlite" or not meta.constraints:
        return statements
    tablename = meta.get_formatted_tablename()
    inline = ", ".join(f'CONSTRAINT "{c._meta.name}" {c.ddl}' for c in meta.constraints)
    result = []
    for statement in statements:
        if statement.startswith(f"ALTER TABLE {tablename} ADD CONSTRAINT"):
            continue
        if statement.startswith("CREATE TABLE") and statement.endswith(")"):
            statement = f"{statement[:-1]}, {inline})"
        result.append(statement)
    return result


def install() -> None:
    """Patch Piccolo's CREATE TABLE (idempotent)."""
    Create.ddl = property(_ddl_with_inline_constraints)  # type: ignore[method-assign,assignment]


install()
