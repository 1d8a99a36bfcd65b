"""A public flow's chat messages: each client_id cookie sees its own sessions only."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow
from tests.integration.tenanted.test_public_builds import public_client

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _chat(visitor: httpx.AsyncClient, flow_id: str, text: str, session: str = "") -> None:
    inputs = {"input_value": text, **({"session": session} if session else {})}
    resp = await visitor.post(
        f"/api/v1/build_public_tmp/{flow_id}/flow",
        params={"event_delivery": "direct"},
        json={"inputs": inputs},
    )
    assert resp.status_code == 200, resp.text
    assert b'"end"' in resp.content


async def _messages(
    visitor: httpx.AsyncClient, flow_id: str, count: int, **params: str
) -> list[dict[str, Any]]:
    """The visitor's messages once `count` of them are stored (the recorder writes late)."""
    for _ in range(100):
        resp = await visitor.get(f"/api/v1/build_public_tmp/{flow_id}/messages", params=params)
        assert resp.status_code == 200, resp.text
        found: list[dict[str, Any]] = resp.json()
        if len(found) >= count:
            return found
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {len(found)} of {count} messages arrived")


async def test_each_visitor_reads_only_its_own_messages(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO, access_type="PUBLIC")
    # The owner's own runs of the flow leave messages no visitor may read.
    own = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "owner secret"})
    assert own.status_code == 200, own.text
    async with public_client(app, "alice") as alice, public_client(app, "bob") as bob:
        await _chat(alice, flow_id, "alice one")
        await _chat(alice, flow_id, "alice two", session="alice-side")
        await _chat(bob, flow_id, "bob one")
        mine = await _messages(alice, flow_id, 4)
        assert {m["text"] for m in mine} == {"alice one", "alice two"}
        assert all(m["flow_id"] == flow_id for m in mine)
        side = await _messages(alice, flow_id, 2, session_id="alice-side")
        assert {m["text"] for m in side} == {"alice two"}
        users = await _messages(alice, flow_id, 2, sender="User")
        assert len(users) == 2
        assert {m["sender"] for m in users} == {"User"}
        theirs = await _messages(bob, flow_id, 2)
        assert {m["text"] for m in theirs} == {"bob one"}
        bad_order = await alice.get(
            f"/api/v1/build_public_tmp/{flow_id}/messages", params={"order_by": "nope"}
        )
        assert bad_order.status_code == 400
        assert "order_by" in bad_order.text
    async with public_client(app, None) as nobody:
        resp = await nobody.get(f"/api/v1/build_public_tmp/{flow_id}/messages")
        assert resp.status_code == 200
        assert resp.json() == []


async def test_a_flow_that_is_not_public_is_404(app: FastAPI) -> None:
    flow_id = await add_flow(app, ECHO)
    async with public_client(app, "alice") as alice:
        resp = await alice.get(f"/api/v1/build_public_tmp/{flow_id}/messages")
        assert resp.status_code == 404
        missing = await alice.get("/api/v1/build_public_tmp/not-a-uuid/messages")
        assert missing.status_code == 404
