"""The monitor API over the records real runs leave: messages, sessions, builds, transactions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow

pytestmark = pytest.mark.asyncio(loop_scope="module")

MONITOR = "/api/v1/monitor"


async def run(client: httpx.AsyncClient, flow_id: str, text: str, session: str) -> str:
    """Run the echo flow to completion; its run id."""
    resp = await client.post(
        f"/api/v1/run/{flow_id}", json={"input_value": text, "session_id": session}
    )
    assert resp.status_code == 200, resp.text
    run_id: str = resp.json()["run_id"]
    return run_id


async def messages(client: httpx.AsyncClient, **params: Any) -> list[dict[str, Any]]:
    resp = await client.get(f"{MONITOR}/messages", params=params)
    assert resp.status_code == 200, resp.text
    body: list[dict[str, Any]] = resp.json()
    return body


async def test_messages_list_filters_and_order(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    other = await add_flow(app, ECHO, name="other")
    run_id = await run(client, flow_id, "first", "s1")
    await run(client, flow_id, "second", "s1")
    await run(client, flow_id, "third", "s2")
    await run(client, other, "elsewhere", "s9")

    mine = await messages(client, flow_id=flow_id)
    assert [(m["text"], m["sender"]) for m in mine] == [
        ("first", "User"),
        ("first", "Machine"),
        ("second", "User"),
        ("second", "Machine"),
        ("third", "User"),
        ("third", "Machine"),
    ]
    first = mine[0]
    assert first["flow_id"] == flow_id
    assert first["run_id"] == run_id
    assert first["session_id"] == "s1"
    assert first["sender_name"] == "User"
    assert first["component_id"] == "in"
    assert first["timestamp"].endswith(("Z", "+00:00"))
    assert first["edit"] is False
    assert first["files"] == []
    assert first["category"] == "message"

    assert len(await messages(client)) == 8
    assert [m["text"] for m in await messages(client, flow_id=flow_id, session_id="s2")] == [
        "third",
        "third",
    ]
    users = await messages(client, flow_id=flow_id, sender="User")
    assert [m["text"] for m in users] == ["first", "second", "third"]
    ai = await messages(client, sender_name="AI", session_id="s9")
    assert [m["text"] for m in ai] == ["elsewhere"]
    newest_first = await messages(client, flow_id=flow_id, order_by="-timestamp")
    assert [m["id"] for m in newest_first] == [m["id"] for m in reversed(mine)]
    by_text = await messages(client, flow_id=flow_id, order_by="text", sender="User")
    assert [m["text"] for m in by_text] == ["first", "second", "third"]
    # Trailing slash served too, as Langflow clients use both.
    assert (await client.get(f"{MONITOR}/messages/", params={"flow_id": flow_id})).json() == mine


async def test_bad_message_queries_name_the_field(client: httpx.AsyncClient) -> None:
    resp = await client.get(f"{MONITOR}/messages", params={"order_by": "password"})
    assert resp.status_code == 400
    assert resp.json()["field"] == "order_by"
    resp = await client.get(f"{MONITOR}/messages", params={"flow_id": "not-a-uuid"})
    assert resp.status_code == 422
    assert "flow_id" in resp.json()["message"]


async def test_sessions_list_rename_and_delete(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    other = await add_flow(app, ECHO, name="other")
    await run(client, flow_id, "a", "s1")
    await run(client, flow_id, "b", "s2")
    await run(client, other, "c", "s3")

    resp = await client.get(f"{MONITOR}/messages/sessions", params={"flow_id": flow_id})
    assert resp.json() == ["s1", "s2"]
    assert (await client.get(f"{MONITOR}/messages/sessions")).json() == ["s1", "s2", "s3"]

    resp = await client.patch(
        f"{MONITOR}/messages/session/s1", params={"new_session_id": "renamed"}
    )
    assert resp.status_code == 200, resp.text
    moved = resp.json()
    assert [(m["text"], m["session_id"]) for m in moved] == [("a", "renamed"), ("a", "renamed")]
    assert await messages(client, session_id="s1") == []
    assert [m["text"] for m in await messages(client, session_id="renamed")] == ["a", "a"]
    # SkillFlaw names the parameter new_session_name.
    resp = await client.patch(
        f"{MONITOR}/messages/session/renamed", params={"new_session_name": "again"}
    )
    assert resp.status_code == 200
    assert {m["session_id"] for m in resp.json()} == {"again"}

    missing = await client.patch(f"{MONITOR}/messages/session/nope", params={"new_session_id": "x"})
    assert missing.status_code == 404
    assert missing.json()["field"] == "old_session_id"
    no_name = await client.patch(f"{MONITOR}/messages/session/again")
    assert no_name.status_code == 400
    assert no_name.json()["field"] == "new_session_id"

    resp = await client.delete(f"{MONITOR}/messages/session/again")
    assert resp.status_code == 204
    assert resp.content == b""
    assert await messages(client, session_id="again") == []
    assert (await client.get(f"{MONITOR}/messages/sessions")).json() == ["s2", "s3"]


async def test_update_and_delete_messages(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    await run(client, flow_id, "hello", "s1")
    await run(client, flow_id, "bye", "s1")
    user_msg, ai_msg, *rest = await messages(client, flow_id=flow_id)

    resp = await client.put(
        f"{MONITOR}/messages/{ai_msg['id']}",
        json={"text": "hello, edited", "properties": {"state": "complete"}, "sender_name": None},
    )
    assert resp.status_code == 200, resp.text
    updated = resp.json()
    assert updated["text"] == "hello, edited"
    assert updated["edit"] is True
    assert updated["properties"] == {"state": "complete"}
    assert updated["sender_name"] == "AI"  # null leaves a field as it is
    stored = await messages(client, flow_id=flow_id)
    assert stored[1]["text"] == "hello, edited"
    assert stored[1]["edit"] is True

    same = await client.put(f"{MONITOR}/messages/{user_msg['id']}", json={"text": "hello"})
    assert same.json()["edit"] is False  # the text did not change
    too_long = await client.put(f"{MONITOR}/messages/{user_msg['id']}", json={"sender": "x" * 33})
    assert too_long.status_code == 422
    assert "sender" in too_long.json()["message"]
    unknown = "00000000-0000-4000-8000-000000000000"
    assert (await client.put(f"{MONITOR}/messages/{unknown}", json={})).status_code == 404

    resp = await client.request(
        "DELETE", f"{MONITOR}/messages", json=[user_msg["id"], ai_msg["id"], unknown]
    )
    assert resp.status_code == 204
    assert [m["id"] for m in await messages(client, flow_id=flow_id)] == [m["id"] for m in rest]
    bad = await client.request("DELETE", f"{MONITOR}/messages", json=["not-an-id"])
    assert bad.status_code == 422


async def test_vertex_builds_grouped_by_vertex(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    other = await add_flow(app, ECHO, name="other")
    first = await run(client, flow_id, "one", "s")
    second = await run(client, flow_id, "two", "s")
    await run(client, other, "three", "s")

    resp = await client.get(f"{MONITOR}/builds", params={"flow_id": flow_id})
    assert resp.status_code == 200, resp.text
    builds = resp.json()["vertex_builds"]
    assert set(builds) == {"in", "out"}
    assert [b["run_id"] for b in builds["in"]] == [first, second]
    out = builds["out"][1]
    assert out["id"] == "out"
    assert out["valid"] is True
    assert out["flow_id"] == flow_id
    assert out["data"]["outputs"]["message"]["message"] == "two"
    assert out["build_id"]
    assert out["timestamp"]

    resp = await client.delete(f"{MONITOR}/builds", params={"flow_id": flow_id})
    assert resp.status_code == 204
    after = await client.get(f"{MONITOR}/builds", params={"flow_id": flow_id})
    assert after.json() == {"vertex_builds": {}}
    kept = await client.get(f"{MONITOR}/builds", params={"flow_id": other})
    assert set(kept.json()["vertex_builds"]) == {"in", "out"}
    assert (await client.get(f"{MONITOR}/builds")).status_code == 422


async def test_transactions_are_paginated(app: FastAPI, client: httpx.AsyncClient) -> None:
    flow_id = await add_flow(app, ECHO)
    for i in range(3):
        await run(client, flow_id, f"t{i}", "s")

    resp = await client.get(
        f"{MONITOR}/transactions", params={"flow_id": flow_id, "page": 1, "size": 4}
    )
    assert resp.status_code == 200, resp.text
    page = resp.json()
    assert (page["total"], page["page"], page["size"], page["pages"]) == (6, 1, 4, 2)
    assert [t["vertex_id"] for t in page["items"]] == ["in", "out", "in", "out"]
    item = page["items"][0]
    assert item["transaction_id"] == item["id"]
    assert item["target_id"] == "out"
    assert item["status"] == "success"
    assert item["error"] is None
    assert item["outputs"]["message"]["text"] == "t0"
    second = (
        await client.get(
            f"{MONITOR}/transactions", params={"flow_id": flow_id, "page": 2, "size": 4}
        )
    ).json()
    assert len(second["items"]) == 2
    assert second["items"][-1]["outputs"]["message"]["text"] == "t2"
    default = (await client.get(f"{MONITOR}/transactions", params={"flow_id": flow_id})).json()
    assert (default["size"], default["pages"], len(default["items"])) == (50, 1, 6)
    for bad in ({"size": 101}, {"page": 0}):
        resp = await client.get(f"{MONITOR}/transactions", params={"flow_id": flow_id, **bad})
        assert resp.status_code == 422


async def test_records_are_private_to_their_owner(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient, make_user: Any
) -> None:
    bob = await make_user("bob")
    carol = await make_user("carol")
    admin_flow = await add_flow(app, ECHO, name="admins")
    bob_name = (await bob.get("/api/v1/users/whoami")).json()["username"]
    bob_flow = await add_flow(app, ECHO, name="bobs", username=bob_name)
    await run(client, admin_flow, "secret", "shared-session")
    await run(bob, bob_flow, "bob's", "shared-session")

    assert (await anon.get(f"{MONITOR}/messages")).status_code == 401
    seen = await messages(bob)
    assert {m["text"] for m in seen} == {"bob's"}
    assert await messages(bob, flow_id=admin_flow) == []
    assert await messages(carol) == []
    assert (await carol.get(f"{MONITOR}/messages/sessions")).json() == []
    builds = await bob.get(f"{MONITOR}/builds", params={"flow_id": admin_flow})
    assert builds.json() == {"vertex_builds": {}}
    txs = await bob.get(f"{MONITOR}/transactions", params={"flow_id": admin_flow})
    assert txs.json()["total"] == 0

    admin_msgs = await messages(client, flow_id=admin_flow)
    target = admin_msgs[0]["id"]
    assert (await bob.put(f"{MONITOR}/messages/{target}", json={"text": "x"})).status_code == 404
    resp = await bob.request("DELETE", f"{MONITOR}/messages", json=[target])
    assert resp.status_code == 204
    resp = await bob.delete(f"{MONITOR}/builds", params={"flow_id": admin_flow})
    assert resp.status_code == 204
    # Bob's rename and delete of the shared session id touch his own messages only.
    resp = await bob.patch(
        f"{MONITOR}/messages/session/shared-session", params={"new_session_id": "bobs-own"}
    )
    assert [m["text"] for m in resp.json()] == ["bob's", "bob's"]
    assert (await bob.delete(f"{MONITOR}/messages/session/bobs-own")).status_code == 204
    assert await messages(bob) == []
    assert await messages(client, flow_id=admin_flow) == admin_msgs
    still = await client.get(f"{MONITOR}/builds", params={"flow_id": admin_flow})
    assert set(still.json()["vertex_builds"]) == {"in", "out"}


async def test_sessions_created_before_their_messages(
    app: FastAPI, client: httpx.AsyncClient, make_user: Any
) -> None:
    flow_id = await add_flow(app, ECHO)
    resp = await client.post(
        f"{MONITOR}/messages/sessions",
        json={"session_id": "planned", "flow_id": flow_id, "name": "Planning"},
    )
    assert resp.status_code == 201, resp.text
    created = resp.json()
    assert (created["session_id"], created["flow_id"], created["name"]) == (
        "planned",
        flow_id,
        "Planning",
    )
    assert created["created_at"]
    generated = (await client.post(f"{MONITOR}/messages/sessions", json={})).json()
    assert len(generated["session_id"]) == 36
    assert generated["flow_id"] is None

    # Listed before any message; once messages arrive, listed once.
    sessions = await client.get(f"{MONITOR}/messages/sessions", params={"flow_id": flow_id})
    assert sessions.json() == ["planned"]
    await run(client, flow_id, "hi", "planned")
    assert (await client.get(f"{MONITOR}/messages/sessions")).json() == [
        "planned",
        generated["session_id"],
    ]

    taken = await client.post(f"{MONITOR}/messages/sessions", json={"session_id": "planned"})
    assert taken.status_code == 409
    assert taken.json()["field"] == "session_id"
    await run(client, flow_id, "x", "busy")
    used = await client.post(f"{MONITOR}/messages/sessions", json={"session_id": "busy"})
    assert used.status_code == 409
    too_long = await client.post(f"{MONITOR}/messages/sessions", json={"session_id": "x" * 256})
    assert too_long.status_code == 422
    bad_flow = await client.post(f"{MONITOR}/messages/sessions", json={"flow_id": "nope"})
    assert bad_flow.status_code == 422

    # An empty session can be renamed and deleted like any other.
    resp = await client.patch(
        f"{MONITOR}/messages/session/{generated['session_id']}",
        params={"new_session_id": "later"},
    )
    assert resp.status_code == 200, resp.text
    assert resp.json() == []
    assert "later" in (await client.get(f"{MONITOR}/messages/sessions")).json()
    clash = await client.patch(
        f"{MONITOR}/messages/session/later", params={"new_session_id": "planned"}
    )
    assert clash.status_code == 409
    assert (await client.delete(f"{MONITOR}/messages/session/later")).status_code == 204
    assert (await client.get(f"{MONITOR}/messages/sessions")).json() == ["planned", "busy"]

    # Sessions are private: another user neither sees nor collides with them.
    bob = await make_user("bob")
    assert (await bob.get(f"{MONITOR}/messages/sessions")).json() == []
    mine = await bob.post(f"{MONITOR}/messages/sessions", json={"session_id": "planned"})
    assert mine.status_code == 201
    assert (await bob.get(f"{MONITOR}/messages/sessions")).json() == ["planned"]
