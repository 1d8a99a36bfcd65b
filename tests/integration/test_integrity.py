"""Integrity errors from SQLite and PostgreSQL become domain errors naming the field."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.exc import DBAPIError, IntegrityError

from flowdeck.db.database import Database
from flowdeck.db.integrity import translate, translate_data
from flowdeck.db.models import Flow, Project, Tenant, User
from flowdeck.errors import ConflictError, FlowdeckError, UnprocessableError
from tests.conftest import TEST_TENANT


async def _write(db: Database, write: Callable[[Any], Awaitable[None]]) -> None:
    async with db.session() as session:
        await write(session)
        await session.flush()


async def refused(db: Database, write: Callable[[Any], Awaitable[None]]) -> FlowdeckError:
    with pytest.raises(IntegrityError) as caught:
        await _write(db, write)
    return translate(caught.value)


def user(name: str | None, tenant_id: str = TEST_TENANT) -> User:
    return User(tenant_id=tenant_id, username=name, password_hash="x")


async def test_unique_not_null_and_foreign_keys(db: Database) -> None:
    async with db.session() as session:
        session.add(user("ada"))
        session.add(Project(id="p" * 36, name="P", tenant_id=TEST_TENANT))

    async def same_name(session: Any) -> None:
        session.add(user("ada"))

    taken = await refused(db, same_name)
    assert isinstance(taken, ConflictError)
    assert (taken.field, taken.details["constraint"]) == ("username", "unique")

    async def no_name(session: Any) -> None:
        session.add(user(None))

    missing = await refused(db, no_name)
    assert isinstance(missing, UnprocessableError)
    assert (missing.field, missing.details["constraint"]) == ("username", "not_null")

    async def no_tenant(session: Any) -> None:
        session.add(user("bob", tenant_id="00000000-0000-4000-8000-000000000999"))

    unknown = await refused(db, no_tenant)
    assert isinstance(unknown, UnprocessableError)
    assert (unknown.field, unknown.details["constraint"]) == ("tenant_id", "foreign_key")

    async def no_parent(session: Any) -> None:
        await session.execute(
            update(Project).where(Project.id == "p" * 36).values(parent_id="nowhere")
        )

    parent = await refused(db, no_parent)
    assert (parent.field, parent.details["constraint"]) == ("parent_id", "foreign_key")


async def test_a_clash_on_a_scoped_key_names_the_column_that_clashed(db: Database) -> None:
    async with db.session() as session:
        session.add(
            Tenant(id="00000000-0000-4000-8000-000000000002", name="t2", code="t2", settings={})
        )
        session.add(Flow(id="f" * 36, name="a", slug="s", tenant_id=TEST_TENANT, data={}))

    async def same_slug(session: Any) -> None:
        session.add(Flow(id="g" * 36, name="b", slug="s", tenant_id=TEST_TENANT, data={}))

    clash = await refused(db, same_slug)
    assert isinstance(clash, ConflictError)
    assert clash.field == "slug"  # the tenant only scopes the key


async def test_a_value_postgres_cannot_store_is_422(db: Database) -> None:
    async def long_name(session: Any) -> None:
        session.add(user("x" * 151))

    if db.is_sqlite:  # SQLite keeps a string of any length: nothing to refuse
        await _write(db, long_name)
        return
    with pytest.raises(DBAPIError) as caught:
        await _write(db, long_name)
    error = translate_data(caught.value)
    assert isinstance(error, UnprocessableError)
    assert "longer than its field allows" in error.message
