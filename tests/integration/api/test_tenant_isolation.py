"""Every resource lives in its tenant: another tenant's row is 404 on every verb, lists and
their totals hold only what the caller may read, a missing privilege is 403."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from tests.integration.api.flow_docs import chat_graph

from flowdeck.db.integrity import translate
from flowdeck.db.models import Project, User
from flowdeck.errors import ConflictError

PROJECTS = "/api/v1/projects/"
FLOWS = "/api/v1/flows/"
FILES = "/api/v2/files"
KEYS = "/api/v1/api_key/"
MONITOR = "/api/v1/monitor"


async def _tenant(client: httpx.AsyncClient, name: str) -> str:
    made = await client.post("/api/v1/tenants/", json={"tenant_name": name})
    assert made.status_code == 201, made.text
    tenant_id: str = made.json()["tenant_id"]
    return tenant_id


async def _bind(client: httpx.AsyncClient, tenant_id: str, username: str, role: str) -> None:
    made = await client.post(
        "/api/v1/tenants/user-roles",
        json={"tenant_id": tenant_id, "role_id": role, "username": username},
        headers={"Tenant-Id": tenant_id},
    )
    assert made.status_code == 201, made.text


async def _rows_in(bob: httpx.AsyncClient, there: dict[str, str]) -> dict[str, Any]:
    """One row of each resource, made by bob in the tenant of `there`."""
    project = await bob.post(PROJECTS, json={"name": "Acme project"}, headers=there)
    assert project.status_code == 201, project.text
    flow = await bob.post(FLOWS, json={"name": "acme-flow", "data": chat_graph()}, headers=there)
    assert flow.status_code == 201, flow.text
    file = await bob.post(FILES, files={"file": ("acme.txt", b"acme")}, headers=there)
    assert file.status_code == 201, file.text
    key = await bob.post(KEYS, json={"name": "acme-key"}, headers=there)
    assert key.status_code == 200, key.text
    flow_id = flow.json()["id"]
    ran = await bob.post(
        f"/api/v1/run/{flow_id}", json={"input_value": "hi", "session_id": "acme-s"}, headers=there
    )
    assert ran.status_code == 200, ran.text
    messages = await bob.get(f"{MONITOR}/messages", params={"flow_id": flow_id}, headers=there)
    assert messages.json(), messages.text
    return {
        "project": project.json()["id"],
        "flow": flow_id,
        "file": file.json()["id"],
        "key": key.json(),
        "message": messages.json()[0]["id"],
    }


async def test_another_tenants_rows_are_404_on_every_verb_and_absent_from_lists(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    bob = await make_user("bob")
    acme = await _tenant(client, "acme")
    await _bind(client, acme, "bob", "developer")
    there = {"Tenant-Id": acme}
    ids = await _rows_in(bob, there)

    # Acting in his default tenant, bob finds none of them.
    project, flow, file = ids["project"], ids["flow"], ids["file"]
    calls = {
        "project read": await bob.get(f"{PROJECTS}{project}"),
        "project update": await bob.patch(f"{PROJECTS}{project}", json={"name": "x"}),
        "project delete": await bob.delete(f"{PROJECTS}{project}"),
        "project download": await bob.get(f"{PROJECTS}download/{project}"),
        "flow read": await bob.get(f"{FLOWS}{flow}"),
        "flow update": await bob.patch(f"{FLOWS}{flow}", json={"name": "x"}),
        "flow delete": await bob.delete(f"{FLOWS}{flow}"),
        "file read": await bob.get(f"{FILES}/{file}"),
        "file rename": await bob.put(f"{FILES}/{file}", params={"name": "x"}),
        "file delete": await bob.delete(f"{FILES}/{file}"),
        "files zip": await bob.post(f"{FILES}/batch/", json=[file]),
        "files delete": await bob.request("DELETE", f"{FILES}/batch/", json=[file]),
        "key delete": await bob.delete(f"{KEYS}{ids['key']['id']}"),
        "message update": await bob.put(f"{MONITOR}/messages/{ids['message']}", json={"text": "x"}),
        "session rename": await bob.patch(
            f"{MONITOR}/messages/session/acme-s", params={"new_session_id": "x"}
        ),
        "session delete": await bob.delete(f"{MONITOR}/messages/session/acme-s"),
    }
    assert {k: r.status_code for k, r in calls.items()} == dict.fromkeys(calls, 404)
    # Batch deletes ignore what the caller cannot see.
    gone = await bob.request("DELETE", FLOWS, json=[flow])
    assert gone.json() == {"deleted": 0}
    assert (
        await bob.request("DELETE", f"{MONITOR}/messages", json=[ids["message"]])
    ).status_code == 204

    # Lists (and their totals) in the default tenant hold none of acme's rows.
    assert project not in [p["id"] for p in (await bob.get(PROJECTS)).json()]
    assert (await bob.get(FLOWS)).json() == []
    paged = (await bob.get(FLOWS, params={"get_all": "false", "page": 1, "size": 10})).json()
    assert (paged["total"], paged["items"]) == (0, [])
    assert (await bob.get(FILES)).json() == []
    keys = (await bob.get(KEYS)).json()
    assert (keys["total_count"], keys["api_keys"]) == (0, [])
    assert (await bob.get(f"{MONITOR}/messages")).json() == []
    assert (await bob.get(f"{MONITOR}/messages/sessions")).json() == []

    # In acme every row is still there, untouched.
    assert (await bob.get(f"{PROJECTS}{project}", headers=there)).json()["name"] == "Acme project"
    assert (await bob.get(f"{FLOWS}{flow}", headers=there)).json()["name"] == "acme-flow"
    assert (await bob.get(f"{FILES}/{file}", headers=there)).content == b"acme"
    in_acme = (await bob.get(KEYS, headers=there)).json()
    assert (in_acme["total_count"], [k["id"] for k in in_acme["api_keys"]]) == (
        1,
        [ids["key"]["id"]],
    )
    kept = await bob.get(f"{MONITOR}/messages", params={"flow_id": flow}, headers=there)
    assert ids["message"] in [m["id"] for m in kept.json()]

    # The key acts for bob in acme, where it was made: it sees acme's flow, not his home's.
    key_only = {"x-api-key": ids["key"]["api_key"], "Authorization": ""}
    by_key = await bob.get(FLOWS, headers=key_only)
    assert [f["id"] for f in by_key.json()] == [flow]
    assert (await bob.get(FLOWS, headers={**key_only, **there})).status_code == 200
    # Nor does it act anywhere else, not even in a tenant where bob holds a role himself.
    home = (await bob.get("/api/v1/users/whoami")).json()["tenant_id"]
    elsewhere = await bob.get(FLOWS, headers={**key_only, "Tenant-Id": home})
    assert elsewhere.status_code == 403, elsewhere.text
    assert elsewhere.json()["field"] == "Tenant-Id"
    assert (await bob.delete(f"{KEYS}{ids['key']['id']}", headers=there)).status_code == 200


async def test_a_read_only_role_reads_and_is_refused_every_change(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    bob, vera = await make_user("bob"), await make_user("vera")
    acme = await _tenant(client, "acme")
    await _bind(client, acme, "bob", "tenant_admin")  # sees and could change every row
    await _bind(client, acme, "vera", "viewer")
    there = {"Tenant-Id": acme}
    ids = await _rows_in(bob, there)
    project, flow, file = ids["project"], ids["flow"], ids["file"]

    refused = {
        ("projects", "WRITE"): await vera.post(PROJECTS, json={"name": "v"}, headers=there),
        ("projects", "MODIFY"): await vera.patch(
            f"{PROJECTS}{project}", json={"name": "v"}, headers=there
        ),
        ("projects", "DELETE"): await vera.delete(f"{PROJECTS}{project}", headers=there),
        ("flows", "MODIFY"): await vera.patch(f"{FLOWS}{flow}", json={"name": "v"}, headers=there),
        ("flows", "DELETE"): await vera.delete(f"{FLOWS}{flow}", headers=there),
        ("files", "WRITE"): await vera.post(FILES, files={"file": ("v.txt", b"v")}, headers=there),
        ("files", "MODIFY"): await vera.put(f"{FILES}/{file}", params={"name": "v"}, headers=there),
        ("files", "DELETE"): await vera.delete(f"{FILES}/{file}", headers=there),
        ("api_keys", "WRITE"): await vera.post(KEYS, json={"name": "v"}, headers=there),
        ("api_keys", "DELETE"): await vera.delete(f"{KEYS}{ids['key']['id']}", headers=there),
        ("monitor", "MODIFY"): await vera.put(
            f"{MONITOR}/messages/{ids['message']}", json={"text": "v"}, headers=there
        ),
        ("monitor", "DELETE"): await vera.delete(
            f"{MONITOR}/messages/session/acme-s", headers=there
        ),
    }
    answers = {
        k: (r.status_code, r.json()["module"], r.json()["operation"]) for k, r in refused.items()
    }
    assert answers == {k: (403, *k) for k in refused}
    # Reads are allowed; a viewer sees only their own rows, so bob's are 404 to her.
    assert (await vera.get(PROJECTS, headers=there)).status_code == 200
    assert (await vera.get(FLOWS, headers=there)).json() == []
    assert (await vera.get(f"{FLOWS}{flow}", headers=there)).status_code == 404
    assert (await vera.get(KEYS, headers=there)).json()["total_count"] == 0


async def test_users_are_administered_within_their_tenant(
    client: httpx.AsyncClient, make_user: Any
) -> None:
    erin = await make_user("erin")
    acme = await _tenant(client, "acme")
    await _bind(client, acme, "erin", "tenant_admin")
    there = {"Tenant-Id": acme}
    bob = await make_user("bob")  # of the system tenant
    bob_id = (await bob.get("/api/v1/users/whoami")).json()["id"]

    made = await erin.post(
        "/api/v1/users/", json={"username": "ann", "password": "pw-123456"}, headers=there
    )
    assert made.status_code == 201, made.text
    assert made.json()["tenant_id"] == acme
    ann = made.json()["id"]
    listed = (await erin.get("/api/v1/users/", headers=there)).json()
    assert ([u["username"] for u in listed["users"]], listed["total_count"]) == (["ann"], 1)
    ok = await erin.patch(f"/api/v1/users/{ann}", json={"nickname": "Ann"}, headers=there)
    assert ok.json()["nickname"] == "Ann"
    reset = await erin.patch(
        f"/api/v1/users/{ann}/reset-password", json={"password": "pw-654321"}, headers=there
    )
    assert reset.status_code == 200, reset.text

    # Another tenant's user is not found; superuser rights only a platform superuser grants.
    for call in (
        erin.patch(f"/api/v1/users/{bob_id}", json={"nickname": "x"}, headers=there),
        erin.patch(
            f"/api/v1/users/{bob_id}/reset-password", json={"password": "pw-1234567"}, headers=there
        ),
        erin.delete(f"/api/v1/users/{bob_id}", headers=there),
    ):
        assert (await call).status_code == 404
    elevated = await erin.post(
        "/api/v1/users/",
        json={"username": "root2", "password": "pw-123456", "is_superuser": True},
        headers=there,
    )
    assert elevated.status_code == 403
    assert (
        await erin.patch(f"/api/v1/users/{ann}", json={"is_superuser": True}, headers=there)
    ).status_code == 403
    elsewhere = await erin.post(
        "/api/v1/users/",
        json={
            "username": "zed",
            "password": "pw-123456",
            "tenant_id": (await bob.get("/api/v1/users/whoami")).json()["tenant_id"],
        },
        headers=there,
    )
    assert (elsewhere.status_code, elsewhere.json()["field"]) == (400, "tenant_id")

    # A user without USERS MODIFY changes only themself.
    refused = await bob.patch(f"/api/v1/users/{ann}", json={"nickname": "x"}, headers=there)
    assert refused.status_code == 403
    assert (await bob.patch(f"/api/v1/users/{bob_id}", json={"nickname": "B"})).status_code == 200
    # The platform superuser administers any tenant's users by acting in it.
    assert (await client.delete(f"/api/v1/users/{ann}", headers=there)).status_code == 200
    assert (await erin.delete(f"/api/v1/users/{ann}", headers=there)).status_code == 404


async def test_project_names_are_unique_per_owner_within_a_tenant(
    app: FastAPI, client: httpx.AsyncClient, make_user: Any
) -> None:
    bob = await make_user("bob")
    acme = await _tenant(client, "acme")
    await _bind(client, acme, "bob", "developer")
    there = {"Tenant-Id": acme}
    home = await bob.post(PROJECTS, json={"name": "Shared name"})
    other = await bob.post(PROJECTS, json={"name": "Shared name"}, headers=there)
    assert (home.json()["name"], other.json()["name"]) == ("Shared name", "Shared name")
    second = await bob.post(PROJECTS, json={"name": "Second"}, headers=there)
    clash = await bob.patch(
        f"{PROJECTS}{second.json()['id']}", json={"name": "Shared name"}, headers=there
    )
    assert (clash.status_code, clash.json()["field"]) == (409, "name")

    # The database holds the same rule (a write that raced past the check): 409 on name.
    async with app.state.services.db.session() as session:
        owner = (await session.execute(select(User).where(User.username == "bob"))).scalar_one()
        session.add(Project(tenant_id=acme, user_id=owner.id, name="Shared name"))
        with pytest.raises(IntegrityError) as caught:
            await session.flush()
        await session.rollback()
    error = translate(caught.value)
    assert isinstance(error, ConflictError)
    assert error.field == "name"
