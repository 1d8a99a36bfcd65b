"""Start-up migrations: an empty database built from the models matches the migrations."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection

from flowdeck.db.database import MIGRATIONS, Database, _alembic_upgrade, _head_revision
from tests.conftest import _pg_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def two_urls(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """Two empty databases of one kind (async URLs)."""
    if request.param == "sqlite":
        yield (
            f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
            f"sqlite+aiosqlite:///{tmp_path / 'b.db'}",
        )
        return
    for a in _pg_database(empty=True):
        for b in _pg_database(empty=True):
            asyncpg = "postgresql+asyncpg://"
            yield a.replace("postgresql://", asyncpg), b.replace("postgresql://", asyncpg)


def _schema(conn: Connection) -> dict[str, Any]:
    """Everything about the tables that a migration decides, comparable across databases."""
    insp = inspect(conn)
    schema: dict[str, Any] = {}
    for table in sorted(insp.get_table_names()):
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], c.get("default"))
                for c in insp.get_columns(table)
            ],
            "pk": insp.get_pk_constraint(table)["constrained_columns"],
            "fks": sorted(
                (
                    tuple(f["constrained_columns"]),
                    f["referred_table"],
                    f.get("options", {}).get("ondelete"),
                )
                for f in insp.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in insp.get_indexes(table)
            ),
            "uniques": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
        }
    return schema


async def _read(db: Database) -> tuple[dict[str, Any], list[str]]:
    async with db.engine.connect() as conn:
        schema = await conn.run_sync(_schema)
        versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).all()
    return schema, [v[0] for v in versions]


async def test_fresh_database_matches_the_migrations(two_urls: tuple[str, str]) -> None:
    fresh, migrated = Database(two_urls[0]), Database(two_urls[1])
    try:
        await fresh.migrate()  # empty: tables from the models, stamped
        async with migrated.engine.begin() as conn:
            await conn.run_sync(_alembic_upgrade)  # the migrations, as before
        fresh_schema, fresh_versions = await _read(fresh)
        migrated_schema, migrated_versions = await _read(migrated)
        assert fresh_schema == migrated_schema
        assert fresh_versions == migrated_versions == [_head_revision()]
        await migrated.migrate()  # at head: nothing to do, nothing changes
        assert await _read(migrated) == (migrated_schema, migrated_versions)
    finally:
        await fresh.dispose()
        await migrated.dispose()


def test_head_revision_is_alembics() -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    assert _head_revision() == ScriptDirectory.from_config(cfg).get_current_head()


async def test_an_older_database_is_upgraded_by_the_migrations(tmp_path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'old.db'}")
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32))"))
        await db.migrate()  # not at head and not empty: Alembic runs every migration
        schema, versions = await _read(db)
        assert versions == [_head_revision()]
        assert {"runs", "users", "flows"} <= set(schema)
    finally:
        await db.dispose()
