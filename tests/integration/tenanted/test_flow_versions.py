"""Flow versions: frozen graphs, rollback, publish, the online and released copies."""

from __future__ import annotations

import httpx
import pytest

from tests.integration.api.flow_docs import chat_graph, flow

pytestmark = pytest.mark.asyncio(loop_scope="module")

FLOWS = "/api/v1/flows/"


async def _flow_with_two_versions(client: httpx.AsyncClient) -> tuple[str, dict, dict]:  # type: ignore[type-arg]
    made = (await client.post(FLOWS, json=flow("Versioned"))).json()
    fid = made["id"]
    v1 = await client.post(f"{FLOWS}{fid}/versions/", json={"version": "v1", "note": "first"})
    assert v1.status_code == 201, v1.text
    await client.patch(f"{FLOWS}{fid}", json={"data": chat_graph("Howdy")})
    v2 = await client.post(f"{FLOWS}{fid}/versions", json={"version": "v2"})
    assert v2.status_code == 201
    return fid, v1.json(), v2.json()


async def test_versions_freeze_the_graph(client: httpx.AsyncClient) -> None:
    fid, v1, v2 = await _flow_with_two_versions(client)
    assert (v1["version"], v1["flow_version"], v1["note"], v1["version_note"]) == (
        "v1",
        "v1",
        "first",
        "first",
    )
    assert v1["flow_id"] == fid
    assert v1["data"] == chat_graph()
    assert v2["data"] == chat_graph("Howdy")
    listed = (await client.get(f"{FLOWS}{fid}/versions/")).json()
    assert [v["version"] for v in listed] == ["v2", "v1"]
    dup = await client.post(f"{FLOWS}{fid}/versions/", json={"version": "v1"})
    assert dup.status_code == 409
    assert dup.json()["field"] == "version"
    assert (await client.post(f"{FLOWS}{fid}/versions/", json={"version": ""})).status_code == 422


async def test_rollback_copies_the_version_into_the_draft(client: httpx.AsyncClient) -> None:
    fid, v1, v2 = await _flow_with_two_versions(client)
    before = (await client.get(f"{FLOWS}{fid}")).json()
    rolled = await client.post(f"{FLOWS}{fid}/versions/{v1['id']}/rollback")
    assert rolled.status_code == 200, rolled.text
    assert rolled.json()["data"] == chat_graph()
    assert rolled.json()["updated_at"] != before["updated_at"]
    assert (await client.get(f"{FLOWS}{fid}")).json()["data"] == chat_graph()
    # The versions themselves are untouched.
    assert [v["data"] for v in (await client.get(f"{FLOWS}{fid}/versions/")).json()] == [
        chat_graph("Howdy"),
        chat_graph(),
    ]
    await client.patch(f"{FLOWS}{fid}", json={"locked": True})
    locked = await client.post(f"{FLOWS}{fid}/versions/{v2['id']}/rollback")
    assert locked.status_code == 409
    assert (await client.get(f"{FLOWS}{fid}")).json()["data"] == chat_graph()


async def test_publish_online_and_unpublish(client: httpx.AsyncClient) -> None:
    fid, v1, v2 = await _flow_with_two_versions(client)
    assert (await client.get(f"{FLOWS}{fid}/online")).status_code == 404
    before = (await client.get(f"{FLOWS}{fid}")).json()
    published = await client.post(f"{FLOWS}{fid}/versions/{v1['id']}/publish")
    assert published.status_code == 200
    body = published.json()
    assert (body["is_online"], body["online_version_id"], body["online_version"]) == (
        True,
        v1["id"],
        "v1",
    )
    # Publishing does not change the draft, so an editor's copy is still fresh.
    assert body["updated_at"] == before["updated_at"]
    assert body["data"] == chat_graph("Howdy")
    online = (await client.get(f"{FLOWS}{fid}/online")).json()
    assert online["data"] == chat_graph()
    assert online["online_version"] == "v1"
    listed = next(f for f in (await client.get(FLOWS)).json() if f["id"] == fid)
    assert listed["online_version"] == "v1"
    republished = await client.post(f"{FLOWS}{fid}/versions/{v2['id']}/publish/")
    assert republished.json()["online_version"] == "v2"
    off = await client.delete(f"{FLOWS}{fid}/online")
    assert off.status_code == 200
    assert (off.json()["is_online"], off.json()["online_version_id"]) == (False, None)
    assert (await client.get(f"{FLOWS}{fid}/online/")).status_code == 404


async def test_release_reads_a_named_version(client: httpx.AsyncClient) -> None:
    fid, _, _ = await _flow_with_two_versions(client)
    await client.patch(f"{FLOWS}{fid}", json={"data": chat_graph("Draft")})
    release = await client.get(f"{FLOWS}{fid}/release", params={"v": "v1"})
    assert release.status_code == 200
    assert (release.json()["id"], release.json()["data"]) == (fid, chat_graph())
    assert (await client.get(f"{FLOWS}{fid}/release", params={"v": "v9"})).status_code == 404
    assert (await client.get(f"{FLOWS}{fid}/release")).status_code == 422


async def test_versions_follow_flow_access(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    alice, bob = await make_user("alice"), await make_user("bob")
    fid = (await alice.post(FLOWS, json=flow("Private"))).json()["id"]
    version = (await alice.post(f"{FLOWS}{fid}/versions/", json={"version": "1.0"})).json()
    assert (await bob.get(f"{FLOWS}{fid}/versions/")).status_code == 404
    assert (await bob.post(f"{FLOWS}{fid}/versions/", json={"version": "2"})).status_code == 404
    assert (await bob.post(f"{FLOWS}{fid}/versions/{version['id']}/publish")).status_code == 404
    assert (await bob.get(f"{FLOWS}{fid}/release", params={"v": "1.0"})).status_code == 404
    # A version id of one flow does not work through another flow.
    other = (await alice.post(FLOWS, json=flow("Other"))).json()["id"]
    crossed = await alice.post(f"{FLOWS}{other}/versions/{version['id']}/rollback")
    assert crossed.status_code == 404
    assert (await alice.get(f"{FLOWS}{fid}/versions/")).json()[0]["version"] == "1.0"
