"""Two tenants, every kind of resource, every verb: nothing of one tenant reaches the other.

Tenant A's administrator makes one of everything; tenant B's administrator (who holds every
privilege in B) then reads, lists, updates, deletes, runs, cancels, streams, downloads and
inspects each of them by id. Every answer is 404, as if the row did not exist, and afterwards
A still has all of it, unchanged. Runs on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from tests.integration.api.flow_docs import ASK, chat_graph
from tests.tenancy import TenantWorld, new_tenant

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def _made(resp: httpx.Response) -> dict[str, Any]:
    assert resp.status_code in (200, 201), resp.text
    body: Any = resp.json()
    return body[0] if isinstance(body, list) else body


async def _everything(a: httpx.AsyncClient, tenant_id: str) -> dict[str, Any]:
    """One of each resource kind in tenant A, made by its administrator."""
    flow = await _made(
        await a.post("/api/v1/flows/", json={"name": "a-flow", "data": chat_graph()})
    )
    asking = await _made(await a.post("/api/v1/flows/", json={"name": "a-ask", "data": ASK}))
    project = await _made(await a.post("/api/v1/projects/", json={"name": "a-project"}))
    version = await _made(
        await a.post(f"/api/v1/flows/{flow['id']}/versions/", json={"version": "v1"})
    )
    done = await _made(
        await a.post(
            f"/api/v1/run/{flow['id']}", json={"input_value": "hi"}, params={"stream": "false"}
        )
    )
    waiting = await _made(
        await a.post(f"/api/v1/build/{asking['id']}/flow", json={"inputs": {"input_value": "x"}})
    )
    key = await _made(await a.post("/api/v1/api_key/", json={"name": "a-key"}))
    upload = await _made(await a.post("/api/v2/files", files={"file": ("a.txt", b"secret")}))
    v1file = await _made(
        await a.post(f"/api/v1/files/upload/{flow['id']}", files={"file": ("b.txt", b"secret")})
    )
    chat = await _made(
        await a.post("/api/v1/monitor/messages/sessions", json={"flow_id": flow["id"]})
    )
    config = await _made(
        await a.post(
            "/api/v1/configs/", json={"config_key": "k", "config_name": "k", "config_value": "v"}
        )
    )
    index = await _made(
        await a.post(
            "/api/v1/dictionary/indexes/",
            json={"config_key": "colour", "config_name": "Colour", "config_en_name": "Colour"},
        )
    )
    item = await _made(
        await a.post(
            f"/api/v1/dictionary/indexes/{index['config_id']}/items",
            json={
                "config_key": "red",
                "config_name": "red",
                "config_en_name": "red",
                "config_value": "r",
            },
        )
    )
    me = await _made(await a.get("/api/v1/users/whoami"))
    group = await _made(
        await a.post("/api/v1/user-groups/", json={"tenant_id": tenant_id, "group_name": "g"})
    )
    group_member = await _made(
        await a.post(
            "/api/v1/user-groups/members",
            json={"tenant_id": tenant_id, "group_id": group["group_id"], "uids": [me["id"]]},
        )
    )
    org = await _made(
        await a.post(
            "/api/v1/orgs/", json={"tenant_id": tenant_id, "org_name": "HQ", "parent_org_id": None}
        )
    )
    org_member = await _made(
        await a.post(
            "/api/v1/orgs/members",
            json={
                "tenant_id": tenant_id,
                "org_id": org["org_id"],
                "uids": [me["id"]],
                "position": "lead",
                "job": "ops",
            },
        )
    )
    role = await _made(await a.post("/api/v1/roles/", json={"role_name": "A reader"}))
    user_role = await _made(
        await a.post(
            "/api/v1/tenants/user-roles",
            json={"tenant_id": tenant_id, "role_id": role["role_id"], "username": me["username"]},
        )
    )
    group_role = await _made(
        await a.post(
            "/api/v1/tenants/group-roles",
            json={"tenant_id": tenant_id, "role_id": "viewer", "group_name": "g"},
        )
    )
    org_role = await _made(
        await a.post(
            "/api/v1/tenants/org-roles",
            json={"tenant_id": tenant_id, "role_id": "viewer", "org_id": org["org_id"]},
        )
    )
    business = await _made(
        await a.post(
            "/api/v1/businesses/",
            json={"tenant_id": tenant_id, "business_name": "a-biz", "business_level": 1},
        )
    )
    biz = business["business_id"]
    business_role = await _made(
        await a.post(
            f"/api/v1/businesses/{biz}/user-roles",
            json={"uid": me["id"], "role_ids": ["viewer"]},
        )
    )
    await _made(await a.patch(f"/api/v1/flows/{flow['id']}", json={"business_id": biz}))
    template = await _made(
        await a.post(f"/api/v1/flows/{flow['id']}/templates/", json={"name": "a-template"})
    )
    business_template = await _made(
        await a.post(
            f"/api/v1/flows/{flow['id']}/templates/",
            json={"name": "a-biz-template", "scope": "business", "business_id": biz},
        )
    )
    return {
        "template": template["id"],
        "business_template": business_template["id"],
        "business": biz,
        "business_role": business_role["id"],
        "flow": flow["id"],
        "slug": flow.get("endpoint_name") or flow["id"],
        "asking": asking["id"],
        "project": project["id"],
        "version": version["id"],
        "run": done["run_id"],
        "waiting": waiting["job_id"],
        "key": key["id"],
        "file": upload["id"],
        "v1file": v1file["file_path"].rsplit("/", 1)[-1],
        "chat": chat["session_id"],
        "config": config["id"],
        "index": index["config_id"],
        "item": item["config_id"],
        "user": me["id"],
        "group": group["group_id"],
        "group_member": group_member["id"],
        "org": org["org_id"],
        "org_member": org_member["id"],
        "role": role["role_id"],
        "user_role": user_role["id"],
        "group_role": group_role["id"],
        "org_role": org_role["id"],
    }


def _matrix(ids: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    """(kind and verb, method, url, body) for every verb on every kind of A's resources."""
    f, r, w = ids["flow"], ids["run"], ids["waiting"]
    return [
        ("flow read", "GET", f"/api/v1/flows/{f}", None),
        ("flow update", "PATCH", f"/api/v1/flows/{f}", {"name": "stolen"}),
        ("flow delete", "DELETE", f"/api/v1/flows/{f}", None),
        ("flow run", "POST", f"/api/v1/run/{f}", {"input_value": "x"}),
        ("flow run by endpoint", "POST", f"/api/v1/run/{ids['slug']}", {"input_value": "x"}),
        ("flow run advanced", "POST", f"/api/v1/run/advanced/{f}", {"input_value": "x"}),
        ("flow webhook", "POST", f"/api/v1/webhook/{f}", {"any": "thing"}),
        ("flow build", "POST", f"/api/v1/build/{f}/flow", {"inputs": {"input_value": "x"}}),
        ("flow v2 run", "POST", "/api/v2/workflows", {"flow_id": f, "background": False}),
        ("flow response", "POST", "/api/v1/responses", {"model": f, "input": "x"}),
        ("flow online", "GET", f"/api/v1/flows/{f}/online", None),
        ("flow release", "GET", f"/api/v1/flows/{f}/release", {"v": "v1"}),
        ("flow control read", "GET", f"/flows/{f}", None),
        ("flow control status", "GET", f"/flows/status/{f}", None),
        ("flow inspect", "GET", f"/api/v3/flows/inspector/{ids['slug']}/", None),
        ("flow download", "POST", "/api/v1/flows/download/", [f]),
        ("version list", "GET", f"/api/v1/flows/{f}/versions", None),
        ("version create", "POST", f"/api/v1/flows/{f}/versions", {"version": "v2"}),
        ("version publish", "POST", f"/api/v1/flows/{f}/versions/{ids['version']}/publish", None),
        ("version rollback", "POST", f"/api/v1/flows/{f}/versions/{ids['version']}/rollback", None),
        ("project read", "GET", f"/api/v1/projects/{ids['project']}", None),
        ("project update", "PATCH", f"/api/v1/projects/{ids['project']}", {"name": "stolen"}),
        ("project delete", "DELETE", f"/api/v1/projects/{ids['project']}", None),
        ("project download", "GET", f"/api/v1/projects/download/{ids['project']}", None),
        ("run read", "GET", f"/api/v1/runs/{r}", None),
        ("run execution", "GET", f"/api/v1/executions/{r}", None),
        ("run execution outputs", "GET", f"/api/v1/executions/{r}/outputs", None),
        ("run flow-run", "GET", f"/api/v1/flow-runs/{r}", None),
        ("run flow-run delete", "DELETE", f"/api/v1/flow-runs/{r}", None),
        ("run response", "GET", f"/api/v1/responses/{r}", None),
        ("run v2 job", "GET", "/api/v2/workflows", {"job_id": r}),
        ("run events", "GET", f"/api/v1/build/{w}/events", None),
        ("run cancel", "POST", f"/api/v1/runs/{w}/cancel", None),
        ("run build cancel", "POST", f"/api/v1/build/{w}/cancel", None),
        ("run pause", "POST", f"/api/v1/runs/{w}/pause", None),
        ("run resume", "POST", f"/api/v1/runs/{w}/resume", None),
        ("run answer", "POST", f"/api/v1/runs/{w}/answer", {"answer": "yes"}),
        ("run v2 stop", "POST", "/api/v2/workflows/stop", {"job_id": w}),
        ("file read", "GET", f"/api/v2/files/{ids['file']}", None),
        ("file rename", "PUT", f"/api/v2/files/{ids['file']}?name=stolen", None),
        ("file delete", "DELETE", f"/api/v2/files/{ids['file']}", None),
        ("flow file list", "GET", f"/api/v1/files/list/{f}", None),
        ("flow file download", "GET", f"/api/v1/files/download/{f}/{ids['v1file']}", None),
        ("flow file delete", "DELETE", f"/api/v1/files/delete/{f}/{ids['v1file']}", None),
        ("flow file upload", "POST", f"/api/v1/files/upload/{f}", "upload"),
        ("api key delete", "DELETE", f"/api/v1/api_key/{ids['key']}", None),
        (
            "chat rename",
            "PATCH",
            f"/api/v1/monitor/messages/session/{ids['chat']}?new_session_id=stolen",
            None,
        ),
        ("chat delete", "DELETE", f"/api/v1/monitor/messages/session/{ids['chat']}", None),
        ("config read", "GET", f"/api/v1/configs/{ids['config']}", None),
        ("config update", "PATCH", f"/api/v1/configs/{ids['config']}", {"config_value": "x"}),
        ("config delete", "DELETE", f"/api/v1/configs/{ids['config']}", None),
        ("index read", "GET", f"/api/v1/dictionary/indexes/{ids['index']}", None),
        ("index update", "PATCH", f"/api/v1/dictionary/indexes/{ids['index']}", {"note": "x"}),
        ("index delete", "DELETE", f"/api/v1/dictionary/indexes/{ids['index']}", None),
        ("index items", "GET", f"/api/v1/dictionary/indexes/{ids['index']}/items", None),
        ("item read", "GET", f"/api/v1/dictionary/items/{ids['item']}", None),
        ("item update", "PATCH", f"/api/v1/dictionary/items/{ids['item']}", {"key_order": 9}),
        ("item delete", "DELETE", f"/api/v1/dictionary/items/{ids['item']}", None),
        ("user update", "PATCH", f"/api/v1/users/{ids['user']}", {"username": "stolen"}),
        (
            "user password",
            "PATCH",
            f"/api/v1/users/{ids['user']}/reset-password",
            {"password": "Stolen-pw-123456"},
        ),
        ("user delete", "DELETE", f"/api/v1/users/{ids['user']}", None),
        ("group read", "GET", f"/api/v1/user-groups/{ids['group']}", None),
        ("group update", "PATCH", f"/api/v1/user-groups/{ids['group']}", {"is_enable": False}),
        ("group delete", "DELETE", f"/api/v1/user-groups/{ids['group']}", None),
        ("group member read", "GET", f"/api/v1/user-groups/members/{ids['group_member']}", None),
        (
            "group member delete",
            "DELETE",
            f"/api/v1/user-groups/members/{ids['group_member']}",
            None,
        ),
        ("org read", "GET", f"/api/v1/orgs/{ids['org']}", None),
        ("org update", "PATCH", f"/api/v1/orgs/{ids['org']}", {"note": "x"}),
        ("org delete", "DELETE", f"/api/v1/orgs/{ids['org']}", None),
        ("org member read", "GET", f"/api/v1/orgs/members/{ids['org_member']}", None),
        (
            "org member update",
            "PATCH",
            f"/api/v1/orgs/members/{ids['org_member']}",
            {"is_leader": True},
        ),
        ("org member delete", "DELETE", f"/api/v1/orgs/members/{ids['org_member']}", None),
        ("role read", "GET", f"/api/v1/roles/{ids['role']}", None),
        ("role update", "PATCH", f"/api/v1/roles/{ids['role']}", {"note": "x"}),
        ("role delete", "DELETE", f"/api/v1/roles/{ids['role']}", None),
        ("role privileges", "GET", f"/api/v1/roles/{ids['role']}/privs", None),
        (
            "role grant",
            "POST",
            f"/api/v1/roles/{ids['role']}/privs",
            {"module_id": "flows", "priv_id": "flows:READ"},
        ),
        ("user binding read", "GET", f"/api/v1/tenants/user-roles/{ids['user_role']}", None),
        ("user binding delete", "DELETE", f"/api/v1/tenants/user-roles/{ids['user_role']}", None),
        ("group binding read", "GET", f"/api/v1/tenants/group-roles/{ids['group_role']}", None),
        (
            "group binding delete",
            "DELETE",
            f"/api/v1/tenants/group-roles/{ids['group_role']}",
            None,
        ),
        ("org binding read", "GET", f"/api/v1/tenants/org-roles/{ids['org_role']}", None),
        ("org binding delete", "DELETE", f"/api/v1/tenants/org-roles/{ids['org_role']}", None),
        *_business_matrix(ids),
        *_template_matrix(ids),
    ]


def _business_matrix(ids: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    biz = f"/api/v1/businesses/{ids['business']}"
    roles = f"{biz}/user-roles"
    return [
        ("business read", "GET", biz, None),
        ("business update", "PATCH", biz, {"note": "x"}),
        ("business delete", "DELETE", biz, None),
        ("business candidates", "GET", f"{biz}/user-candidates", None),
        ("business resources", "GET", f"{biz}/resources", None),
        ("business projects", "GET", f"{biz}/resources", {"resource-type": "project"}),
        ("business roles list", "GET", roles, None),
        ("business role upsert", "POST", roles, {"uid": ids["user"], "role_ids": ["viewer"]}),
        ("business role read", "GET", f"{roles}/{ids['business_role']}", None),
        ("business role delete", "DELETE", f"{roles}/{ids['business_role']}", None),
        ("business roles remove", "POST", f"{roles}/batch-remove", {"ids": [ids["business_role"]]}),
        ("business user remove", "DELETE", f"{biz}/users/{ids['user']}", None),
    ]


def _template_matrix(ids: dict[str, Any]) -> list[tuple[str, str, str, Any]]:
    made = f"/api/v1/flows/{ids['flow']}/templates/"
    rows = []
    for kind in ("template", "business_template"):
        item = f"/api/v1/flow_templates/{ids[kind]}"
        rows += [
            (f"{kind} read", "GET", item, None),
            (f"{kind} update", "PATCH", item, {"name": "stolen"}),
            (f"{kind} delete", "DELETE", item, None),
            (f"{kind} flow", "POST", f"{item}/flows", {"name": "stolen"}),
        ]
    return [*rows, ("template create", "POST", made, {"name": "stolen"})]


async def _send(client: httpx.AsyncClient, method: str, url: str, body: Any) -> httpx.Response:
    if body == "upload":
        return await client.post(url, files={"file": ("c.txt", b"x")})
    if method == "GET":
        return await client.get(url, params=body)
    return await client.request(method, url, json=body)


async def test_every_verb_on_every_kind_is_404_across_tenants(
    shared_app: Any, platform: httpx.AsyncClient
) -> None:
    a = await new_tenant(shared_app, platform, "a")
    b = await new_tenant(shared_app, platform, "b")
    ids = await _everything(a.admin, a.id)
    assert all(value not in (None, "") for value in ids.values()), ids
    secret = {v for v in ids.values() if isinstance(v, str) and len(v) > 8}
    answers = {}
    for kind, method, url, body in _matrix(ids):
        resp = await _send(b.admin, method, url, body)
        answers[kind] = resp.status_code
        # A 404 may repeat the id B sent; it shows nothing else of A's.
        sent = url + str(body)
        shown = [v for v in secret if v in resp.text and v not in sent]
        assert shown == [], f"{kind}: {resp.text}"
    assert {k: s for k, s in answers.items() if s != 404} == {}
    # A still has everything, unchanged.
    assert (await a.admin.get(f"/api/v1/flows/{ids['flow']}")).json()["name"] == "a-flow"
    assert (await a.admin.get(f"/api/v1/projects/{ids['project']}")).json()["name"] == "a-project"
    for kind, name in (("template", "a-template"), ("business_template", "a-biz-template")):
        kept = await a.admin.get(f"/api/v1/flow_templates/{ids[kind]}")
        assert kept.json()["name"] == name
    assert (await a.admin.get(f"/api/v2/files/{ids['file']}")).status_code == 200
    waiting = (await a.admin.get(f"/api/v1/runs/{ids['waiting']}")).json()
    assert waiting["state"] == "waiting"
    assert (await a.admin.get(f"/api/v1/configs/{ids['config']}")).json()["config_value"] == "v"
    assert (await a.admin.get(f"/api/v1/orgs/{ids['org']}")).status_code == 200
    assert (await a.admin.get(f"/api/v1/roles/{ids['role']}")).status_code == 200
    biz = f"/api/v1/businesses/{ids['business']}"
    assert (await a.admin.get(biz)).json()["note"] is None
    assert len((await a.admin.get(f"{biz}/user-roles")).json()) == 1
    assert [r["id"] for r in (await a.admin.get(f"{biz}/resources")).json()] == [ids["flow"]]
    assert (await a.admin.get(f"/api/v1/tenants/user-roles/{ids['user_role']}")).status_code == 200
    keys = (await a.admin.get("/api/v1/api_key/")).text
    assert ids["key"] in keys


LISTS = [
    "/api/v1/flows/",
    "/api/v1/projects/",
    "/api/v1/executions",
    "/api/v1/flow-runs",
    "/api/v1/monitor/messages",
    "/api/v1/monitor/messages/sessions",
    "/api/v1/api_key/",
    "/api/v2/files",
    "/api/v1/configs",
    "/api/v1/dictionary/indexes",
    "/api/v1/user-groups",
    "/api/v1/orgs",
    "/api/v1/orgs/tree",
    "/api/v1/businesses/",
    "/api/v1/businesses/tree",
    "/api/v1/flow_templates/",
    "/api/v1/roles",
    "/api/v1/tenants/user-roles",
    "/api/v1/tenants/group-roles",
    "/api/v1/tenants/org-roles",
    "/api/v1/users/",
    "/flows",
    "/flows/status",
]


async def test_lists_hold_only_the_tenants_own_rows(
    shared_app: Any, platform: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    other = await new_tenant(shared_app, platform, "other")
    ids = await _everything(other.admin, other.id)
    # Strings of A's ids that could show up in a list body (integers are matched as "id": n).
    needles = {str(v) for v in ids.values() if isinstance(v, str) and len(v) > 8}
    names = {"a-flow", "a-project", "a-key", "a.txt", "A reader", "colour", "a-biz", "a-template"}
    # Lists that filter by a flow, asked for the other tenant's flow.
    by_flow = [
        f"/api/v1/monitor/{what}?flow_id={ids['flow']}"
        for what in ("builds", "messages", "transactions")
    ]
    by_flow.append(f"/api/v1/executions?flow_id={ids['flow']}")
    for path in LISTS + by_flow:
        resp = await tenant.admin.get(path)
        assert resp.status_code == 200, f"{path}: {resp.text}"
        text = resp.text
        leaked = [n for n in needles | names if n in text]
        assert leaked == [], f"{path} shows {leaked}"


async def test_acting_in_another_tenant_needs_a_role_there(
    shared_app: Any, platform: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    other = await new_tenant(shared_app, platform, "elsewhere")
    there = {"Tenant-Id": other.id}
    for path in ("/api/v1/flows/", "/api/v1/projects/", "/api/v1/configs", "/api/v2/files"):
        refused = await tenant.admin.get(path, headers=there)
        assert refused.status_code == 403, refused.text
        assert refused.json()["field"] == "Tenant-Id"


async def test_an_api_key_runs_only_its_own_tenants_flows(
    shared_app: Any, platform: httpx.AsyncClient, tenant: TenantWorld
) -> None:
    other = await new_tenant(shared_app, platform, "keys")
    theirs = await _made(
        await other.admin.post("/api/v1/flows/", json={"name": "f", "data": chat_graph()})
    )
    mine = await _made(
        await tenant.admin.post("/api/v1/flows/", json={"name": "f", "data": chat_graph()})
    )
    key = (await _made(await tenant.admin.post("/api/v1/api_key/", json={"name": "k"})))["api_key"]
    anon = httpx.AsyncClient(transport=httpx.ASGITransport(app=shared_app), base_url="http://test")
    async with anon:
        ok = await anon.post(
            f"/api/v1/run/{mine['id']}", json={"input_value": "x"}, headers={"x-api-key": key}
        )
        assert ok.status_code == 200, ok.text
        refused = await anon.post(
            f"/api/v1/run/{theirs['id']}", json={"input_value": "x"}, headers={"x-api-key": key}
        )
        assert refused.status_code == 404, refused.text
        # Same name in both tenants: the key's tenant decides which flow "f" is.
        by_name = await anon.post(
            "/api/v1/run/f", json={"input_value": "x"}, headers={"x-api-key": key}
        )
        assert by_name.status_code == 200, by_name.text
