"""Size caps: a run of a 20 MiB string stores a bounded record and bounded monitor records."""

from __future__ import annotations

from typing import Any

import httpx
import orjson
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from tests.integration.api.test_runs import add_flow

from flowdeck.runs.caps import MARK
from flowdeck.settings import Settings

BIG = 20 * 1024 * 1024
RUN_CAP = 512 * 1024
RECORD_CAP = 128 * 1024
HUGE = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "grow", "type": "PythonFunction", "params": {"code": f"def f(x): return x * {BIG}"}},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "grow.input_value"},
        {"from": "grow.function_output_str", "to": "out.input_value"},
    ],
}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "allow_custom_code": True,
            "max_run_output_bytes": RUN_CAP,
            "max_monitor_record_bytes": RECORD_CAP,
        }
    )


async def _rows(app: FastAPI, table: str) -> list[dict[str, Any]]:
    # Raw SQL: JSON columns come back as their stored text, so `len` is the stored size.
    async with app.state.services.db.session() as session:
        result = await session.execute(text(f"SELECT * FROM {table}"))
        return [dict(row._mapping) for row in result]


def _stored_size(row: dict[str, Any]) -> int:
    return sum(len(v if isinstance(v, str) else orjson.dumps(v, default=str)) for v in row.values())


def _json(value: Any) -> Any:
    """A JSON column's value (SQLite gives its text, asyncpg the decoded value)."""
    return orjson.loads(value) if isinstance(value, str) else value


async def test_a_20_mib_output_is_stored_capped_and_marked(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    flow_id = await add_flow(app, HUGE, name="huge")
    db_file = settings.data_dir.parent / "flowdeck.db"
    before = db_file.stat().st_size if settings.is_sqlite else 0
    resp = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "a"})
    assert resp.status_code == 200, resp.text[:300]
    # The answer is the run's stored record: cut, and saying so.
    body = resp.json()
    assert body[MARK] is True
    answer = body["outputs"][0]["outputs"][0]["results"]["message"]["text"]
    assert answer.endswith(f"[{MARK}: {BIG} characters in all]")
    assert len(answer) < RUN_CAP

    (run,) = await _rows(app, "runs")
    assert run["state"] == "completed"
    assert _stored_size(run) < RUN_CAP + 16 * 1024  # the columns beyond the capped ones
    assert _json(run["outputs"])[MARK] is True
    assert f"[{MARK}: {BIG} characters in all]" in orjson.dumps(_json(run["outputs"])).decode()
    for table in ("vertex_builds", "transactions", "messages"):
        rows = await _rows(app, table)
        assert rows, table
        for row in rows:
            assert _stored_size(row) < RECORD_CAP + 4 * 1024, (table, _stored_size(row))
    (message,) = [m for m in await _rows(app, "messages") if m["component_id"] == "out"]
    assert message["text"].endswith(f"[{MARK}: {BIG} characters in all]")
    assert _json(message["properties"])[MARK] is True
    cut = [r for r in await _rows(app, "vertex_builds") if r["id"] == "grow"]
    assert _json(cut[0]["data"])[MARK] is True
    if settings.is_sqlite:
        assert db_file.stat().st_size - before < 4 * 1024 * 1024

    # Read back through the API: the record is whole JSON, with the marker.
    run_id = run["id"]
    shown = (await client.get(f"/api/v1/runs/{run_id}")).json()
    assert shown["state"] == "completed"
    builds = (await client.get("/api/v1/monitor/builds", params={"flow_id": flow_id})).json()
    assert builds["vertex_builds"]["grow"][0]["data"][MARK] is True


async def test_small_outputs_are_stored_whole(client: httpx.AsyncClient, app: FastAPI) -> None:
    small = {**HUGE, "nodes": [*HUGE["nodes"]]}
    small["nodes"][1] = {**HUGE["nodes"][1], "params": {"code": "def f(x): return x * 3"}}
    flow_id = await add_flow(app, small, name="small")
    resp = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "ab"})
    assert resp.status_code == 200, resp.text
    (run,) = await _rows(app, "runs")
    assert MARK not in _json(run["outputs"])
    (message,) = [m for m in await _rows(app, "messages") if m["component_id"] == "out"]
    assert message["text"] == "ababab"
    assert MARK not in _json(message["properties"])
