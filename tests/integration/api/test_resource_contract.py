"""The contract every declared resource keeps, run over every resource the app mounts.

The resources come from the app (each endpoint `mount` builds carries its declaration), so a
resource added later fails `test_every_resource_has_a_contract` until it is given an entry in
CONTRACTS below; from then on it is held to the same rules as every other: created, read,
listed, updated and deleted in its tenant; 404 on every verb from another tenant; 403 naming
its module and operation for a caller without the privilege; lists filtered and counted.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from tests.tenancy import TenantWorld, new_tenant

from flowdeck.api.app import create_app
from flowdeck.resources.declaration import Resource
from flowdeck.resources.routes import resource_of
from flowdeck.settings import Settings

pytestmark = pytest.mark.asyncio(loop_scope="module")

Json = dict[str, Any]
Params = Callable[[TenantWorld], Awaitable[Json]]
Body = Callable[[TenantWorld, Json], Awaitable[Json]]


async def _no_parent(_world: TenantWorld) -> Json:
    return {}


@dataclass(frozen=True)
class Contract:
    """How to make one row of a resource in a tenant, and what to change in it."""

    body: Body  # the create body (or, with `make`, what `make` needs)
    update: Json | None = None
    parents: Params = _no_parent  # path parameters of a nested resource, made first
    # Rows made by a plain route rather than the resource's own POST: returns the new id.
    make: Callable[[TenantWorld, Json, Json], Awaitable[Any]] | None = None
    # Only platform superusers write it (the privilege catalog, tenants).
    platform_only: bool = False
    # The same rows in every tenant, by design (the privilege catalog).
    shared: bool = False
    id_key: str = ""  # the id's name in a read, when not the path's
    query_names: dict[str, str] = field(default_factory=dict)  # parent -> its list query name
    item_query: str = ""  # what addressing one row needs in its query, as the seed has it


def _static(body: Json) -> Body:
    async def make(world: TenantWorld, _params: Json) -> Json:
        # Names that must be unique in a tenant are made unique per row.
        values = {"<tenant>": world.id, "<unique>": uuid.uuid4().hex[:8]}
        return {k: values.get(v, v) if isinstance(v, str) else v for k, v in body.items()}

    return make


async def _index(world: TenantWorld) -> Json:
    made = await world.admin.post(
        "/api/v1/dictionary/indexes",
        json={"config_key": f"i{uuid.uuid4().hex[:6]}", "config_name": "I", "config_en_name": "I"},
    )
    assert made.status_code == 201, made.text
    return {"index_id": made.json()["config_id"]}


async def _group(world: TenantWorld) -> Json:
    made = await world.admin.post(
        "/api/v1/user-groups", json={"tenant_id": world.id, "group_name": uuid.uuid4().hex[:8]}
    )
    assert made.status_code == 201, made.text
    return {"group_id": made.json()["group_id"]}


async def _org(world: TenantWorld) -> Json:
    made = await world.admin.post(
        "/api/v1/orgs", json={"tenant_id": world.id, "org_name": uuid.uuid4().hex[:8]}
    )
    assert made.status_code == 201, made.text
    return {"org_id": made.json()["org_id"]}


async def _business(world: TenantWorld) -> Json:
    made = await world.admin.post(
        "/api/v1/businesses",
        json={"tenant_id": world.id, "business_name": "B", "business_level": 1},
    )
    assert made.status_code == 201, made.text
    return {"business_id": made.json()["business_id"]}


async def _business_role_body(world: TenantWorld, _params: Json) -> Json:
    await world.member(None, name="on-business")
    return {"username": world.last_name, "role_ids": ["viewer"]}


async def _upserted(world: TenantWorld, params: Json, body: Json) -> Any:
    made = await world.admin.post(
        f"/api/v1/businesses/{params['business_id']}/user-roles", json=body
    )
    assert made.status_code == 200, made.text
    return made.json()[0]["id"]


async def _uid(client: httpx.AsyncClient) -> int:
    uid: int = (await client.get("/api/v1/users/whoami")).json()["id"]
    return uid


async def _member_body(world: TenantWorld, params: Json) -> Json:
    someone = await world.member("viewer", name="m")
    return {"tenant_id": world.id, **params, "uids": [await _uid(someone)]}


def _members(path: str, extra: Json) -> Callable[[TenantWorld, Json, Json], Awaitable[Any]]:
    async def make(world: TenantWorld, _params: Json, body: Json) -> Any:
        added = await world.admin.post(path, json={**body, **extra})
        assert added.status_code == 201, added.text
        return added.json()[0]["id"]

    return make


def _bound_to(parent: Params) -> Body:
    async def body(world: TenantWorld, _params: Json) -> Json:
        return {"tenant_id": world.id, "role_id": "viewer", **(await parent(world))}

    return body


PROVIDER = {
    "provider_key": "<unique>",
    "provider_name": "Local",
    "variable_name": "LOCAL_API_KEY",
    "model_class": "ChatOpenAI",
    "base_url": "http://127.0.0.1:9/v1",
    "api_key": "sk-secret",
}


async def _provider(world: TenantWorld) -> Json:
    made = await world.admin.post(
        "/api/v1/models/providers", json={**PROVIDER, "provider_key": uuid.uuid4().hex[:8]}
    )
    assert made.status_code == 201, made.text
    return {"provider_id": made.json()["provider_id"]}


GROUP = {"group_name": "G", "group_en_name": "g", "component_type": "component"}


async def _component_body(world: TenantWorld, _params: Json) -> Json:
    made = await world.admin.post("/api/v1/components/groups", json=GROUP)
    assert made.status_code == 201, made.text
    code = "OUTPUTS = ['out']\ndef build():\n    return 1\n"
    name = f"C{uuid.uuid4().hex[:8]}"
    return {"component_group_id": made.json()["group_id"], "component_name": name, "code": code}


async def _flows_module(_world: TenantWorld) -> Json:
    return {"module_id": "flows"}


async def _binding_body(world: TenantWorld, _params: Json) -> Json:
    await world.member(None, name="bound")
    return {"tenant_id": world.id, "role_id": "viewer", "username": world.last_name}


async def _template_body(world: TenantWorld, _params: Json) -> Json:
    flow = await world.admin.post("/api/v1/flows/", json={"name": uuid.uuid4().hex[:8]})
    assert flow.status_code == 201, flow.text
    return {"flow_id": flow.json()["id"], "name": "T", "scope": "tenant"}


async def _from_flow(world: TenantWorld, _params: Json, body: Json) -> Any:
    flow_id = body.pop("flow_id")
    made = await world.admin.post(f"/api/v1/flows/{flow_id}/templates/", json=body)
    assert made.status_code == 201, made.text
    return made.json()["id"]


CONTRACTS: dict[str, Contract] = {
    "flow template": Contract(_template_body, update={"name": "T2"}, make=_from_flow),
    "config": Contract(
        _static({"config_key": "k", "config_name": "K", "config_value": "v"}),
        update={"config_value": "w"},
    ),
    "dictionary index": Contract(
        _static({"config_key": "colour", "config_name": "C", "config_en_name": "C"}),
        update={"note": "n"},
        id_key="config_id",
    ),
    "dictionary item": Contract(
        _static(
            {"config_key": "red", "config_name": "R", "config_en_name": "R", "config_value": "r"}
        ),
        update={"key_order": 3},
        parents=_index,
        id_key="config_id",
    ),
    "user group": Contract(
        _static({"tenant_id": "<tenant>", "group_name": "readers"}), update={"note": "n"}
    ),
    "group member": Contract(
        _member_body,
        update={"is_leader": True},
        parents=_group,
        query_names={"group_id": "group-id"},
        make=_members("/api/v1/user-groups/members", {}),
    ),
    "org": Contract(_static({"tenant_id": "<tenant>", "org_name": "HQ"}), update={"note": "n"}),
    "org member": Contract(
        _member_body,
        update={"is_leader": True},
        parents=_org,
        query_names={"org_id": "org-id"},
        make=_members("/api/v1/orgs/members", {"position": "p", "job": "j"}),
    ),
    "business": Contract(
        _static({"tenant_id": "<tenant>", "business_name": "<unique>", "business_level": 1}),
        update={"note": "n"},
    ),
    "business user role": Contract(_business_role_body, parents=_business, make=_upserted),
    "role": Contract(_static({"role_name": "Readers"}), update={"role_name": "Reviewers"}),
    "tenant user role": Contract(_binding_body),
    "tenant group role": Contract(_bound_to(_group)),
    "tenant org role": Contract(_bound_to(_org)),
    "model provider": Contract(_static(PROVIDER), update={"note": "n"}),
    "provider model": Contract(
        _static({"model_name": "<unique>", "model_type": "llm"}),
        update={"context_length": 4096},
        parents=_provider,
    ),
    "component group": Contract(_static(GROUP), update={"note": "n"}, item_query="?scope=1"),
    "component": Contract(_component_body, update={"note": "n"}, item_query="?scope=1"),
    "tenant": Contract(
        _static({"tenant_name": "t", "note": "n"}), update={"note": "m"}, platform_only=True
    ),
    "permission module": Contract(_static({}), platform_only=True, shared=True),
    "privilege": Contract(
        _static({"priv_id": "flows:EXPORT", "priv_name": "Export", "is_sys_priv": False}),
        update={"priv_name": "Export all"},
        parents=_flows_module,
        platform_only=True,
        shared=True,
    ),
}


@dataclass
class Mounted:
    resource: Resource[Any]
    paths: dict[str, str] = field(default_factory=dict)  # verb -> path without the slash


def mounted(app: FastAPI) -> dict[str, Mounted]:
    found: dict[str, Mounted] = {}
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if not isinstance(route, APIRoute) or path.endswith("/"):
            continue
        resource = resource_of(route.endpoint)
        if resource is not None:
            verb = route.name.split("_")[0] + ("_many" if "delete_many" in route.name else "")
            found.setdefault(resource.label, Mounted(resource)).paths[verb] = path
    return found


_settings = Settings(data_dir=tempfile.mkdtemp(), database_url="sqlite://", secret_key="x" * 40)
MOUNTED = mounted(create_app(_settings))


@pytest.mark.asyncio(loop_scope="module")
async def test_every_resource_has_a_contract() -> None:
    assert set(MOUNTED) - set(CONTRACTS) == set(), "add these resources to CONTRACTS"
    assert set(CONTRACTS) - set(MOUNTED) == set(), "these resources are no longer mounted"


def _fill(path: str, params: Json, own: Any = None, id_field: str = "") -> str:
    for key, value in {**params, **({id_field: own} if id_field else {})}.items():
        path = path.replace("{" + key + "}", str(value))
    return path


def _list_url(path: str, params: Json, names: dict[str, str]) -> str:
    """The collection: parents not in its path are in its query (a group's members)."""
    query = "&".join(
        f"{names.get(k, k)}={v}" for k, v in params.items() if "{" + k + "}" not in path
    )
    return _fill(path, params) + (f"?{query}" if query else "")


async def _make(
    world: TenantWorld,
    writer: httpx.AsyncClient,
    m: Mounted,
    c: Contract,
    params: Json | None = None,
) -> tuple[Json, Any]:
    params = await c.parents(world) if params is None else params
    body = await c.body(world, params)
    if c.make is not None:
        return params, await c.make(world, params, body)
    headers = {"Tenant-Id": world.id}
    made = await writer.post(_fill(m.paths["create"], params), json=body, headers=headers)
    assert made.status_code == 201, f"{m.resource.label}: {made.text}"
    row = made.json()
    assert row.get("c_uid") is None or row["c_uid"] == row["m_uid"]
    return params, row[c.id_key or (m.resource.id_field if m.resource.id_field in row else "id")]


def _ids(rows: Any) -> list[Any]:
    listed = rows if isinstance(rows, list) else rows.get("data") or rows.get("items") or []
    return [r.get("id", r.get("config_id")) for r in listed] + [
        r.get(k) for r in listed for k in r if k.endswith("_id")
    ]


@pytest.mark.parametrize("label", sorted(MOUNTED))
async def test_the_resource_keeps_the_contract(
    label: str, shared_app: FastAPI, platform: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    m, c = MOUNTED[label], CONTRACTS[label]
    res = m.resource
    a, in_a = tenant, {"Tenant-Id": tenant.id}
    writer = platform if c.platform_only else a.admin
    if c.make is None and "create" not in m.paths:
        # Nothing creates it through the API (the system catalog): read what exists.
        listed = await platform.get(m.paths["list"], headers=in_a)
        assert listed.status_code == 200, listed.text
        assert listed.json(), f"{label}: the system rows exist"
        row_id, params = listed.json()[0][res.id_field], {}
    else:
        params, row_id = await _make(a, writer, m, c)
    item = _fill(m.paths["read"], params, row_id, res.id_field) + c.item_query
    collection = _list_url(m.paths["list"], params, c.query_names)

    # In its tenant: read and listed, the list counting only what the caller sees.
    read = await writer.get(item, headers=in_a)
    assert read.status_code == 200, f"{label}: {read.text}"
    listed = await writer.get(collection, headers=in_a)
    assert listed.status_code == 200
    assert row_id in _ids(listed.json()), f"{label}: a new row is listed"
    if c.update is not None and "update" in m.paths:
        changed = await writer.patch(item, json=c.update, headers=in_a)
        assert changed.status_code == 200, f"{label}: {changed.text}"
        for key, value in c.update.items():
            assert changed.json()[key] == value

    # A caller without the privilege: 403 naming the module and the operation.
    nobody = await a.member(None, name="nobody")
    role = await a.admin.post("/api/v1/roles", json={"role_name": f"empty-{uuid.uuid4().hex[:6]}"})
    assert role.status_code == 201, role.text
    bound = await a.admin.post(
        "/api/v1/tenants/user-roles",
        json={"tenant_id": a.id, "role_id": role.json()["role_id"], "username": a.last_name},
    )
    assert bound.status_code == 201, bound.text
    for verb, method, url, body in (
        ("list", "GET", collection, None),
        ("read", "GET", item, None),
        ("update", "PATCH", item, c.update),
        ("delete", "DELETE", item, None),
    ):
        if verb in m.paths:
            refused = await nobody.request(method, url, json=body)
            assert refused.status_code == 403, f"{label} {verb}: {refused.text}"
            assert res.module.value in refused.json()["message"]

    # Another tenant's administrator: 404 on every verb, and nothing listed.
    if not c.shared:
        b = await new_tenant(shared_app, platform, "b")
        for verb, method, body in (
            ("read", "GET", None),
            ("update", "PATCH", c.update),
            ("delete", "DELETE", None),
        ):
            if verb in m.paths:
                hidden = await b.admin.request(method, item, json=body)
                # What only platform superusers do is refused before any row is looked up.
                expected = (403, 404) if c.platform_only else (404,)
                assert hidden.status_code in expected, f"{label} {verb} from B: {hidden.text}"
        theirs = await b.admin.get(collection)
        assert theirs.status_code in (200, 404), theirs.text
        if theirs.status_code == 200:
            assert row_id not in _ids(theirs.json())
        for client in b.clients:
            await client.aclose()

    # Deleted in its tenant, then gone; a batch remove counts what it removed.
    if "delete" in m.paths and not (c.make is None and "create" not in m.paths):
        gone = await writer.delete(item, headers=in_a)
        assert gone.status_code == 204, f"{label}: {gone.text}"
        assert (await writer.get(item, headers=in_a)).status_code == 404
    if "delete_many" in m.paths:
        _, first = await _make(a, writer, m, c, params)
        _, second = await _make(a, writer, m, c, params)
        removed = await writer.post(
            _list_url(m.paths["delete_many"], params, c.query_names),
            json={"ids": [first, second]},
            headers=in_a,
        )
        assert removed.json() == {"deleted_count": 2}, removed.text
