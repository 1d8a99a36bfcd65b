"""Alembic environment: runs on the connection flowdeck hands it (see Database.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

import flowdeck.db.models  # noqa: F401  (registers every table)
from flowdeck.db.base import Base

config = context.config
target_metadata = Base.metadata
connection = config.attributes.get("connection")

if connection is None:
    # Run from the alembic command line: FLOWDECK_DATABASE_URL decides (sync driver).
    from flowdeck.settings import load_settings

    url = load_settings().db_url.replace("+aiosqlite", "").replace("+asyncpg", "+psycopg")
    engine = create_engine(url)
    with engine.connect() as conn:
        context.configure(connection=conn, target_metadata=target_metadata, render_as_batch=True)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
