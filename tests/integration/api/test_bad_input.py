"""Bad input answers a 4xx naming the field, never a 500 (each case was found by fuzzing)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from tests.conftest import ADMIN, login
from tests.integration.api.flow_docs import flow
from tests.integration.api.test_runs import ECHO, add_flow
from tests.integration.tenanted.test_workflows import FORK

BIG64 = 2**63  # one past the largest 64-bit integer
BIG32 = 2**31  # one past the largest id an INTEGER column holds
JSON_TYPE = {"content-type": "application/json"}


def invalid_field(resp: httpx.Response, field: str) -> None:
    assert resp.status_code == 422, resp.text
    body = resp.json()
    assert body["field"] == field, body


async def test_integrity_errors_are_4xx_naming_the_field(
    client: httpx.AsyncClient, database_url: str
) -> None:
    project = (await client.post("/api/v1/projects/", json={"name": "P"})).json()
    # A foreign key to nothing (an empty id) is no longer a 500.
    resp = await client.patch(f"/api/v1/projects/{project['id']}", json={"parent_id": ""})
    invalid_field(resp, "parent_id")
    assert resp.json()["constraint"] == "foreign_key"
    me = (await client.get("/api/v1/users/whoami")).json()
    resp = await client.patch(f"/api/v1/users/{me['id']}", json={"username": None})
    invalid_field(resp, "username")
    assert resp.json()["constraint"] == "not_null"
    # A value PostgreSQL cannot store (SQLite stores any length) is not a server error either.
    long = await client.patch(f"/api/v1/users/{me['id']}", json={"nickname": "x" * 151})
    if database_url.startswith("sqlite"):
        assert long.status_code == 200
    else:
        assert long.status_code == 422, long.text
        assert long.json()["constraint"] == "data"
    # The refused writes were rolled back: the records are as they were.
    assert (await client.get("/api/v1/users/whoami")).json()["username"] == me["username"]
    got = (await client.get(f"/api/v1/projects/{project['id']}")).json()
    assert got["parent_id"] is None


OUT_OF_RANGE = [
    ("DELETE", f"/api/v1/users/{BIG64}", "user_id"),
    ("DELETE", f"/api/v1/users/{BIG32}", "user_id"),
    ("PATCH", f"/api/v1/users/{BIG64}/reset-password", "user_id"),
    ("GET", f"/api/v1/users/?skip={BIG64}", "skip"),
    ("GET", f"/api/v1/users/?limit={BIG64}", "limit"),
    ("GET", f"/api/v1/runs/?offset={BIG64}", "offset"),
    ("GET", f"/api/v1/flows/?page={BIG64}&size=10", "page"),
    ("GET", f"/api/v1/monitor/transactions?flow_id={uuid.UUID(int=1)}&page={BIG64}", "page"),
    ("GET", f"/logs?lines_before={BIG64}", "lines_before"),
]


async def test_integers_beyond_the_database_are_422(client: httpx.AsyncClient) -> None:
    for method, url, field in OUT_OF_RANGE:
        resp = await client.request(method, url, json={"password": "pw-1234567"})
        invalid_field(resp, field)


async def test_out_of_range_ids_in_project_and_version_routes(client: httpx.AsyncClient) -> None:
    made = (await client.post("/api/v1/flows/", json=flow("F"))).json()
    project = (await client.post("/api/v1/projects/", json={"name": "P"})).json()
    page = await client.get(f"/api/v1/projects/{project['id']}", params={"page": BIG64, "size": 2})
    invalid_field(page, "page")
    for action in ("publish", "rollback"):
        resp = await client.post(f"/api/v1/flows/{made['id']}/versions/{BIG64}/{action}")
        invalid_field(resp, "version_id")
    user = await client.post(
        "/api/v1/users/", json={"username": "u", "password": "pw-1234567", "tenant_id": BIG32}
    )
    invalid_field(user, "tenant_id")


async def test_run_inputs_naming_no_component_are_422(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    body = {"inputs": [{"components": ["nope"], "input_value": "x"}]}
    resp = await client.post(f"/api/v1/run/advanced/{flow_id}", json=body)
    invalid_field(resp, "inputs")
    assert resp.json()["component_id"] == "nope"
    build = await client.post(f"/api/v1/build/{flow_id}/flow", params={"stop_component_id": "gone"})
    invalid_field(build, "stop_component_id")


async def test_a_failing_step_is_a_4xx_naming_the_component(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, FORK, name="fork")
    runs = [
        await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "not json"}),
        await client.post(
            f"/api/v1/run/advanced/{flow_id}",
            json={"inputs": [{"components": ["in"], "input_value": "not json"}]},
        ),
    ]
    for resp in runs:
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert (body["code"], body["state"], body["component_id"]) == (
            "run_failed",
            "failed",
            "parse",
        )
        assert "not valid JSON" in body["detail"]
        error_shape(resp, 422, "run_failed")
    # v2 workflows and OpenAI responses report a failed run in the answer, with 200.
    wf = await client.post(
        "/api/v2/workflows", json={"flow_id": flow_id, "inputs": {"in.input_value": "x"}}
    )
    assert wf.status_code == 200
    assert wf.json()["errors"][0]["details"]["component_id"] == "parse"
    answer = await client.post("/api/v1/responses", json={"model": flow_id, "input": "x"})
    assert answer.status_code == 200
    assert answer.json()["status"] == "failed"


async def test_a_disabled_component_is_a_4xx(app: FastAPI, client: httpx.AsyncClient) -> None:
    code = {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "py", "type": "PythonFunction", "params": {"code": "def run(x): return x"}},
        ],
        "edges": [{"from": "in.message", "to": "py.input_value"}],
    }
    flow_id = await add_flow(app, code, name="code")
    resp = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "x"})
    assert 400 <= resp.status_code < 500, resp.text
    assert "py" in resp.text


NOT_JSON = [
    (b'{"name": NaN}', "NaN"),
    (b'{"name": "a", "description": Infinity}', "Infinity"),
    (b'{"name": "a", "description": -Infinity}', "-Infinity"),
    (b'{"name": "a", "description": 1e400}', "1e400 is beyond the range"),
    (b'{"name": "a", "name": "b"}', "duplicate key 'name'"),
    (b'{"name": "a", "flows_list": [], "x": {"k": 1, "k": 2}}', "duplicate key 'k'"),
]


async def test_json_that_is_not_json_is_refused(client: httpx.AsyncClient) -> None:
    for raw, problem in NOT_JSON:
        resp = await client.post("/api/v1/projects/", content=raw, headers=JSON_TYPE)
        assert resp.status_code == 422, resp.text
        body = resp.json()
        assert body["field"] == "body"
        assert problem in body["message"]
        assert body["request_id"] == resp.headers["x-request-id"]
    assert (await client.get("/api/v1/projects/")).json() == []


async def test_booleans_are_booleans(client: httpx.AsyncClient) -> None:
    user = {"username": "b", "password": "pw-1234567", "is_superuser": 0}
    invalid_field(await client.post("/api/v1/users/", json=user), "is_superuser")
    made = (await client.post("/api/v1/flows/", json=flow("F"))).json()
    invalid_field(await client.patch(f"/api/v1/flows/{made['id']}", json={"locked": 1}), "locked")
    invalid_field(await client.get("/api/v1/flows/", params={"header_flows": "1"}), "header_flows")
    invalid_field(await client.get("/api/v1/flows/", params={"get_all": "yes"}), "get_all")
    for word in ("true", "True", "false"):
        assert (
            await client.get("/api/v1/flows/", params={"header_flows": word})
        ).status_code == 200
    locked = await client.patch(f"/api/v1/flows/{made['id']}", json={"locked": True})
    assert locked.json()["locked"] is True


@pytest.fixture
async def small_app(settings: Any) -> AsyncIterator[FastAPI]:
    from flowdeck.api.app import create_app

    application = create_app(settings.model_copy(update={"max_body_bytes": 2048}))
    async with application.router.lifespan_context(application):
        yield application


async def test_chunked_bodies_are_capped_like_sized_ones(small_app: FastAPI) -> None:
    async def chunks(total: int) -> AsyncIterator[bytes]:
        yield b'{"name": "'
        for _ in range(total // 512):
            yield b"x" * 512
        yield b'"}'

    flow_id = await add_flow(small_app, ECHO)
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        c.headers["Authorization"] = f"Bearer {await login(c, *ADMIN)}"
        sized = await c.post("/api/v1/projects/", content=b"x" * 4096, headers=JSON_TYPE)
        assert sized.status_code == 413
        # The webhook reads its body itself; JSON bodies are read whole before any route.
        for content_type in ("application/json", "application/octet-stream"):
            resp = await c.post(
                f"/api/v1/webhook/{flow_id}",
                content=chunks(4096),
                headers={"content-type": content_type},
            )
            assert "content-length" not in resp.request.headers
            assert resp.status_code == 413, resp.text
            assert "exceeds 2048 bytes" in resp.json()["detail"]


async def test_405_lists_every_method_of_the_path(client: httpx.AsyncClient) -> None:
    version = await client.put("/api/v1/version")
    assert version.status_code == 405
    assert version.headers["allow"] == "GET"
    project = (await client.post("/api/v1/projects/", json={"name": "P"})).json()
    for path in (f"/api/v1/projects/{project['id']}", f"/api/v1/projects/{project['id']}/"):
        resp = await client.put(path)
        assert resp.status_code == 405
        assert set(resp.headers["allow"].split(", ")) == {"GET", "PATCH", "DELETE"}
    flows = await client.put("/api/v1/flows/")
    assert set(flows.headers["allow"].split(", ")) == {"GET", "POST", "DELETE"}


def error_shape(resp: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    """The documented error body: detail, code, message, field (when one is to blame) and
    the request id, which the header carries too."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"], body
    assert body["request_id"] == resp.headers["x-request-id"], body
    assert "detail" in body
    if field is not None:
        assert body["field"] == field, body


async def test_every_kind_of_error_has_the_documented_shape(
    client: httpx.AsyncClient, small_app: FastAPI
) -> None:
    error_shape(await client.get("/api/v1/no-such-route"), 404, "not_found")
    error_shape(await client.put("/api/v1/version"), 405, "method_not_allowed")
    error_shape(
        await client.get("/api/v1/flows/", params={"page": BIG64}), 422, "invalid_request", "page"
    )
    error_shape(
        await client.post("/api/v1/projects/", content=b"{", headers=JSON_TYPE),
        422,
        "invalid_json",
        "body",
    )
    error_shape(await client.get(f"/api/v1/flows/{uuid.uuid4()}"), 404, "not_found", "flow_id")
    anonymous = client.headers.pop("Authorization")
    try:
        error_shape(await client.get("/api/v1/flows/"), 401, "not_authenticated")
    finally:
        client.headers["Authorization"] = anonymous
    transport = httpx.ASGITransport(app=small_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        big = await c.post("/api/v1/projects/", content=b"x" * 4096, headers=JSON_TYPE)
        error_shape(big, 413, "body_too_large", "body")


def local(resp: httpx.Response) -> Any:
    """The client's end of the connection that carried a response."""
    return resp.extensions["network_stream"].get_extra_info("client_addr")


async def test_an_unexpected_error_keeps_the_connection(app: FastAPI) -> None:
    """After a 500 the server keeps the keep-alive connection: the next request uses it."""
    import asyncio

    import uvicorn

    async def boom() -> None:
        raise RuntimeError("a failure no handler expects")

    app.router.add_api_route("/test-only/boom", boom)
    config = uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="off", log_level="critical")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not serving.done(), "the server did not start"
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as c:
            failed = await c.get("/test-only/boom")
            used = local(failed)
            assert failed.status_code == 500
            body = failed.json()
            assert body["code"] == "internal_error"
            assert body["request_id"] == failed.headers["x-request-id"]
            assert "a failure" not in failed.text  # no traceback or message leaks out
            after = await c.get("/health")
            assert after.status_code == 200
            assert local(after) == used  # the same connection, not a new one
    finally:
        server.should_exit = True
        await serving
