"""Moving tenant ids to uuids keeps every row, and every row keeps its tenant."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text
from sqlalchemy.engine import Connection

from flowdeck.db.database import MIGRATIONS, Database
from tests.conftest import _pg_database

NOW = datetime(2026, 11, 30, 10, tzinfo=UTC)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    for plain in _pg_database(empty=True):
        yield plain.replace("postgresql://", "postgresql+asyncpg://")


def _upgrade_to(revision: str) -> object:
    def run(conn: Connection) -> None:
        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)

    return run


def _seed(conn: Connection) -> None:
    """Two tenants as integer ids left them, each with a user, a flow, a run and a key."""
    for tid, name in ((1, "default"), (2, "other")):
        conn.execute(
            text(
                "INSERT INTO tenants (id, name, is_active, settings, created_at, updated_at) "
                "VALUES (:id, :name, :yes, '{}', :now, :now)"
            ),
            {"id": tid, "name": name, "yes": True, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO users (id, tenant_id, username, password_hash, is_active, "
                "is_superuser, optins, created_at, updated_at) "
                "VALUES (:id, :tid, :name, 'x', :yes, :su, '{}', :now, :now)"
            ),
            {"id": tid, "tid": tid, "name": f"u{tid}", "yes": True, "su": tid == 1, "now": NOW},
        )
        flow = str(uuid.uuid4())
        conn.execute(
            text(
                "INSERT INTO flows (id, tenant_id, user_id, name, slug, data, tags, config, "
                "access_type, is_component, webhook, locked, mcp_enabled, flow_type, is_online, "
                "deployment_status, created_at, updated_at) VALUES (:id, :tid, :tid, :name, "
                ":name, '{}', '[]', '{}', 'PRIVATE', :no, :no, :no, :no, 'chat', :no, 'stopped', "
                ":now, :now)"
            ),
            {"id": flow, "tid": tid, "name": f"flow{tid}", "no": False, "now": NOW},
        )
        conn.execute(
            text(
                "INSERT INTO api_keys (id, user_id, key_hash, key_preview, total_uses, "
                "is_active, created_at, updated_at) VALUES (:id, :uid, :hash, 'sk-', 0, :yes, "
                ":now, :now)"
            ),
            {"id": str(uuid.uuid4()), "uid": tid, "hash": f"h{tid}", "yes": True, "now": NOW},
        )


def _read(conn: Connection) -> dict[str, object]:
    tenants = dict(conn.execute(text("SELECT name, id FROM tenants")).all())
    users = dict(conn.execute(text("SELECT username, tenant_id FROM users")).all())
    flows = dict(conn.execute(text("SELECT name, tenant_id FROM flows")).all())
    keys = dict(conn.execute(text("SELECT key_hash, tenant_id FROM api_keys")).all())
    roles = conn.execute(text("SELECT uid, tenant_id, role_id FROM tenant_user_roles")).all()
    system = conn.execute(text("SELECT name FROM tenants WHERE is_sys = :y"), {"y": True}).all()
    return {
        "tenants": tenants,
        "users": users,
        "flows": flows,
        "keys": keys,
        "roles": sorted(map(tuple, roles)),
        "system": system,
    }


async def test_tenant_ids_become_uuids_and_nothing_is_lost(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.run_sync(_upgrade_to("0002"))
            await conn.run_sync(_seed)
        await db.migrate()
        async with db.engine.connect() as conn:
            seen = await conn.run_sync(_read)
    finally:
        await db.dispose()
    tenants = seen["tenants"]
    assert isinstance(tenants, dict)
    assert set(tenants) == {"default", "other"}
    for tid in tenants.values():
        assert str(uuid.UUID(tid)) == tid
    assert seen["users"] == {"u1": tenants["default"], "u2": tenants["other"]}
    assert seen["flows"] == {"flow1": tenants["default"], "flow2": tenants["other"]}
    assert seen["keys"] == {"h1": tenants["default"], "h2": tenants["other"]}
    assert seen["roles"] == [
        (1, tenants["default"], "tenant_admin"),
        (2, tenants["other"], "developer"),
    ]
    assert seen["system"] == [("default",)]
