"""Every route declares its access, and every route is walked as an attacker would.

The routes come from the app itself, so a route added later is covered without editing this
file: it must declare a privilege (or be on the public list below), answer 401 without
credentials, and give a second user nothing of the first user's resources.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Route
from tests.integration.api.flow_docs import chat_graph

from flowdeck.access.declare import access_of

# The documented public list: health, version, config, docs, metrics, login, public flows
# and their public builds, profile pictures.
PUBLIC = {
    ("GET", "/health"),
    ("GET", "/health_check"),
    ("GET", "/api/v1/version"),
    ("GET", "/api/v1/config"),
    ("GET", "/metrics"),
    ("POST", "/api/v1/login"),
    ("GET", "/api/v1/auto_login"),
    ("POST", "/api/v1/refresh"),
    ("POST", "/api/v1/logout"),
    ("GET", "/api/v1/flows/public_flow/{flow_id}"),
    ("POST", "/api/v1/build_public_tmp/{flow_id}/flow"),
    ("GET", "/api/v1/build_public_tmp/{job_id}/events"),
    ("POST", "/api/v1/build_public_tmp/{job_id}/cancel"),
    ("GET", "/api/v1/build_public_tmp/{flow_id}/messages"),
    ("GET", "/api/v1/files/profile_pictures/list"),
    ("GET", "/api/v1/files/profile_pictures/{folder_name}/{file_name}"),
    # The web console's page and files (its data comes from the API, with credentials).
    ("GET", "/"),
    ("GET", "/console/{path:path}"),
    ("GET", "/docs"),
    ("GET", "/redoc"),
}
# Served by FastAPI itself (the OpenAPI document and its viewers).
DOCS = {"/openapi.json", "/docs/oauth2-redirect"}
# MCP streams stay open for as long as their client listens. They name no one's resources,
# so a second user's walk has nothing to find there; test_mcp covers what they serve to whom.
# The runs feed too: it follows the acting tenant, and filters by owner (test_runs_feed).
ENDLESS = {
    ("GET", "/api/v1/mcp/sse"),
    ("GET", "/api/v1/mcp/streamable"),
    ("GET", "/api/v1/runs/events"),
}
PARAM = re.compile(r"{([^}:]+)(?::[^}]+)?}")


def routes(app: FastAPI) -> Iterator[tuple[str, str, Any]]:
    """(method, path, route) of every route the app serves, slash twins included."""
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        path = context.path or ""  # with the prefix it was included under
        for method in sorted(context.methods or ()):
            if method != "HEAD":
                yield method, path, route


def canonical(path: str) -> str:
    return path.rstrip("/") or "/"


def is_public(method: str, path: str) -> bool:
    return (method, canonical(path)) in {(m, canonical(p)) for m, p in PUBLIC}


def test_every_route_declares_its_access(app: FastAPI) -> None:
    undeclared, wrongly_public = [], []
    for method, path, route in routes(app):
        if isinstance(route, APIRoute):
            access = access_of(route.endpoint)
            if access is None:
                undeclared.append(f"{method} {path}")
            elif access.kind == "public" and not is_public(method, path):
                wrongly_public.append(f"{method} {path}")
        elif isinstance(route, Route):
            assert route.path in DOCS, f"{method} {path} is not a guarded route"
    assert undeclared == [], "routes that declare neither a privilege nor that they are public"
    assert wrongly_public == [], "public routes missing from the documented public list"


def fill(path: str, values: dict[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        name = match.group(1)
        assert name in values, f"{path}: add a value for the path parameter {name!r}"
        return values[name]

    return PARAM.sub(one, path)


ANY_ID = "00000000-0000-4000-8000-000000000000"
DUMMY = {
    name: ANY_ID
    for name in (
        "flow_id",
        "flow_id_or_name",
        "job_id",
        "run_id",
        "id_",
        "execution_id",
        "project_id",
        "api_key_id",
        "file_id",
        "session_id",
        "old_session_id",
        "message_id",
        "response_id",
        "flow_slug",
        "template_id",
    )
} | {
    "file_name": "a.txt",
    "folder_name": "People",
    "version_id": "1",
    "user_id": "1",
    # Role bindings are shared within a tenant (test_tenants covers who sees them).
    "relation_id": "999999",
    "tenant_id": ANY_ID,
    "module_id": "no-such-module",
    "priv_id": "no-such-priv",
    "role_id": "no-such-role",
    "config_id": "999999",
    "index_id": "999999",
    "item_id": "999999",
    "member_id": "999999",
    "group_id": "999999",
    "org_id": "999999",
    "business_id": "999999",
    "uid": "999999",
    "provider_id": "999999",
    "model_id": "999999",
    "server_name": "no-such-server",
    "component_id": ANY_ID,
    "flow_name": "no-such-flow",
}


async def test_every_guarded_route_needs_credentials(app: FastAPI, anon: httpx.AsyncClient) -> None:
    answered: dict[str, int] = {}
    for method, path, _ in routes(app):
        if is_public(method, path) or path in DOCS:
            continue
        resp = await anon.request(method, fill(path, DUMMY), json={} if method != "GET" else None)
        answered[f"{method} {path}"] = resp.status_code
    assert len(answered) > 100
    # The inspector's seed answers an unidentified caller with 403; every other route 401.
    expected = {"GET /api/v3/flows/inspector/{flow_slug}/": 403}
    leaks = {r: s for r, s in answered.items() if s != expected.get(r.rstrip("/") + "/", 401)}
    assert leaks == {}


async def _first_users_resources(alice: httpx.AsyncClient) -> dict[str, str]:
    flow = await alice.post(
        "/api/v1/flows/", json={"name": "alice-flow", "data": chat_graph(), "access_type": "PUBLIC"}
    )
    assert flow.status_code == 201, flow.text
    flow_id = flow.json()["id"]
    project = await alice.post("/api/v1/projects/", json={"name": "alice-project"})
    assert project.status_code == 201, project.text
    version = await alice.post(f"/api/v1/flows/{flow_id}/versions/", json={"version": "v1"})
    assert version.status_code == 201, version.text
    job = await alice.post(f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": "x"}})
    key = await alice.post("/api/v1/api_key/", json={"name": "alice-key"})
    upload = await alice.post("/api/v2/files", files={"file": ("notes.txt", b"secret")})
    assert upload.status_code == 201, upload.text
    v1file = await alice.post(f"/api/v1/files/upload/{flow_id}", files={"file": ("a.txt", b"x")})
    assert v1file.status_code == 201, v1file.text
    chat = await alice.post("/api/v1/monitor/messages/sessions", json={"flow_id": flow_id})
    assert chat.status_code == 201, chat.text
    # Personal: bob, a developer of the same tenant, sees the tenant's templates by design.
    template = await alice.post(
        f"/api/v1/flows/{flow_id}/templates/", json={"name": "alice-t", "scope": "personal"}
    )
    assert template.status_code == 201, template.text
    me = (await alice.get("/api/v1/users/whoami")).json()
    run_id = job.json()["job_id"]
    return DUMMY | {
        "flow_id": flow_id,
        "flow_id_or_name": flow_id,
        "flow_slug": flow.json().get("slug") or flow_id,
        "job_id": run_id,
        "run_id": run_id,
        "id_": run_id,
        "execution_id": run_id,
        "response_id": run_id,
        "project_id": project.json()["id"],
        "api_key_id": key.json()["id"],
        "file_id": upload.json()["id"],
        "file_name": v1file.json()["file_path"].rsplit("/", 1)[-1],
        "session_id": chat.json()["session_id"],
        "old_session_id": chat.json()["session_id"],
        "version_id": str(version.json()["id"]),
        "user_id": str(me["id"]),
        "template_id": template.json()["id"],
    }


UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


async def test_a_second_user_gets_nothing_of_the_first(app: FastAPI, make_user) -> None:  # type: ignore[no-untyped-def]
    alice = await make_user("alice")
    bob = await make_user("bob")
    ids = await _first_users_resources(alice)
    secret = {v for v in ids.values() if UUID.fullmatch(v) and v != ANY_ID}
    leaks: list[str] = []
    for method, path, _ in routes(app):
        if is_public(method, path) or path in DOCS or (method, canonical(path)) in ENDLESS:
            continue
        uses_ids = bool(PARAM.search(path))
        url = fill(path, ids)
        resp = await bob.request(method, url, json={} if method != "GET" else None)
        # An id bob sent may come back in the error that says it was not found.
        shown = {found for found in UUID.findall(resp.text) if found in secret and found not in url}
        if shown or (uses_ids and resp.status_code < 400):
            leaks.append(f"{method} {path} -> {resp.status_code} {sorted(shown)}")
    assert leaks == []
    # Nothing bob did removed or changed alice's resources.
    assert (await alice.get(f"/api/v1/flows/{ids['flow_id']}")).status_code == 200
    assert (await alice.get(f"/api/v1/projects/{ids['project_id']}")).status_code == 200
    assert (await alice.get(f"/api/v2/files/{ids['file_id']}")).status_code == 200
    assert (await alice.get(f"/api/v1/runs/{ids['run_id']}")).status_code == 200
    keys = (await alice.get("/api/v1/api_key/")).text
    assert ids["api_key_id"] in keys
