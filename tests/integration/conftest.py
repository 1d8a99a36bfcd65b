"""Fixtures for tests that use the database without the app."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from flowdeck.db.database import Database
from flowdeck.db.models import Tenant
from flowdeck.settings import Settings
from tests.conftest import TEST_TENANT


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """A migrated database (SQLite or PostgreSQL) holding tenant 1."""
    database = Database(Settings(database_url=database_url).db_url)
    await database.migrate()
    async with database.session() as session:
        session.add(Tenant(id=TEST_TENANT, name="t", code="t", settings={}))
    yield database
    await database.dispose()
