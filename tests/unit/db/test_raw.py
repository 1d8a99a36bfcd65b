"""Statements compiled once for a driver, and values converted as SQLAlchemy converts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, select
from sqlalchemy.dialects import postgresql, sqlite

from flowdeck.db.models import Flow, Run
from flowdeck.db.raw import Processors, RawQuery
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.flows import FlowRepository

REF = "0b7c1f2e-5d3a-4c1b-9e8f-1a2b3c4d5e6f"


def test_a_query_knows_its_parameters_in_placeholder_order() -> None:
    stmt, params = FlowRepository.fingerprints_query(Scope(7, 3), REF)
    on_sqlite = RawQuery(stmt, sqlite.dialect())
    assert on_sqlite.sql.count("?") == len(on_sqlite.names)
    assert on_sqlite.args(params) == (7, 3, REF, REF, REF)  # `ref` is matched twice
    on_pg = RawQuery(stmt, postgresql.asyncpg.dialect())  # type: ignore[attr-defined]
    assert "$4" in on_pg.sql
    assert "$5" not in on_pg.sql
    assert on_pg.args(params) == (7, 3, REF, REF)


def test_a_parameter_that_needs_conversion_is_refused() -> None:
    stmt = select(Run.id).where(Run.created_at > bindparam("since", type_=Run.created_at.type))
    with pytest.raises(ValueError, match="since"):
        RawQuery(stmt, sqlite.dialect())


def test_processors_convert_both_ways_as_sqlalchemy_does() -> None:
    procs = Processors(Flow.__table__, sqlite.dialect())  # type: ignore[arg-type]
    when = datetime(2026, 11, 29, 7, 30, 1, 250, tzinfo=UTC)
    stored = procs.param("updated_at", when)
    assert isinstance(stored, str)
    assert stored.startswith("2026-11-29 07:30:01")
    # Another zone's time is stored as UTC, so SQLite's text comparisons order as time does.
    paris = when.astimezone(timezone(timedelta(hours=1)))
    assert procs.param("updated_at", paris) == stored
    assert procs.param("updated_at", None) is None
    assert procs.param("name", "x") == "x"  # text needs nothing
    runs = Processors(Run.__table__, sqlite.dialect())  # type: ignore[arg-type]
    row = tuple(
        {"created_at": stored, "meta": '{"a": [1, 2]}', "state": "queued"}.get(c)
        for c in runs.columns
    )
    back = runs.row(row)
    assert back["created_at"] == when  # SQLite keeps no zone: read back as UTC
    assert back["created_at"].tzinfo is UTC
    assert back["meta"] == {"a": [1, 2]}
    assert back["state"] == "queued"
    assert back["outputs"] is None
