"""The OpenAPI document says what routes answer: error bodies, statuses, media types, bodies."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRouter

from flowdeck.api import openapi

Json = dict[str, Any]


@pytest.fixture
async def doc(anon: httpx.AsyncClient) -> Json:
    resp = await anon.get("/openapi.json")
    assert resp.status_code == 200
    body: Json = resp.json()
    return body


def ops(doc: Json) -> list[tuple[str, str, Json]]:
    return [(m.upper(), p, op) for p, item in doc["paths"].items() for m, op in item.items()]


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_errors_are_documented_with_the_body_the_app_sends(
    doc: Json, anon: httpx.AsyncClient
) -> None:
    schemas = doc["components"]["schemas"]
    assert "HTTPValidationError" not in schemas
    assert schemas["Error"]["required"] == ["detail", "request_id"]
    for method, path, op in ops(doc):
        for status, answer in op["responses"].items():
            if status.startswith(("4", "5")):
                assert answer["content"]["application/json"]["schema"] == openapi.ERROR_REF, (
                    method,
                    path,
                    status,
                )
        if op.get("parameters") or op.get("requestBody"):
            assert {"400", "422"} <= set(op["responses"]), (method, path)
        if op.get("requestBody"):
            assert "413" in op["responses"], (method, path)
    # What the app answers for a 422 and a 401 has every field the schema requires.
    bad = await anon.post("/api/v1/login", data={"username": "x"})
    assert bad.status_code == 422
    assert set(schemas["Error"]["required"]) <= set(bad.json())
    assert set(schemas["Error"]["required"]) <= set((await anon.get("/api/v1/runs/")).json())


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_statuses_follow_what_a_route_needs_and_takes(doc: Json) -> None:
    paths = doc["paths"]
    assert set(paths["/api/v1/users/whoami"]["get"]["responses"]) == {"200", "401", "403"}
    run = paths["/api/v1/runs/{run_id}/cancel"]["post"]["responses"]
    assert {"401", "403", "404", "409"} <= set(run)
    assert set(paths["/health"]["get"]["responses"]) == {"200"}
    outputs = paths["/api/v1/executions/{execution_id}/outputs"]["get"]["responses"]
    assert outputs["409"]["content"]["application/json"]["schema"] == openapi.ERROR_REF
    assert "500" in paths["/health_check"]["get"]["responses"]
    assert "401" in paths["/api/v1/login"]["post"]["responses"]
    login_form = doc["components"]["schemas"]["Body_login_api_v1_login_post"]
    assert login_form["properties"]["username"]["minLength"] == 1  # empty is missing


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_media_types_of_routes_that_do_not_answer_json(doc: Json) -> None:
    def media(path: str, method: str = "get") -> set[str]:
        responses = doc["paths"][path][method]["responses"]
        ok = next(code for code in responses if code.startswith("2"))
        return set(responses[ok].get("content", {}))

    assert media("/api/v1/run/{flow_id_or_name}", "post") == {
        "application/json",
        "text/event-stream",
    }
    assert media("/api/v1/build/{job_id}/events") == {"application/x-ndjson"}
    assert media("/api/v1/projects/download/{project_id}") == {"application/zip"}
    assert media("/api/v1/flows/download/", "post") == {"application/json", "application/zip"}
    assert media("/api/v2/files/{file_id}") == {"application/json", "*/*"}
    assert media("/logs-stream") == {"text/event-stream"}
    assert media("/metrics") == {"text/plain"}


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_control_routes_declare_the_bodies_they_read(doc: Json) -> None:
    paths = doc["paths"]

    def body(path: str, method: str) -> Json:
        schema: Json = paths[path][method]["requestBody"]["content"]["application/json"]
        return schema["schema"]

    assert body("/flows", "post")["items"] == {"$ref": "#/components/schemas/FlowCreate"}
    assert body("/flows/{flow_id}", "put") == {"$ref": "#/components/schemas/FlowUpdate"}
    assert body("/flows/{flow_id}", "patch") == {"$ref": "#/components/schemas/FlowUpdate"}
    command = body("/flows/commands", "patch")
    assert command["required"] == ["command"]
    assert command["properties"]["command"]["enum"] == ["start", "stop", "pause", "resume"]


def test_a_table_naming_a_route_that_does_not_exist_is_refused() -> None:
    app = FastAPI()
    router = APIRouter()

    @router.get("/here")
    async def here() -> dict[str, str]:
        return {}

    app.include_router(router)
    with pytest.raises(RuntimeError, match="/api/v1/login"):  # the tables name flowdeck's
        openapi.complete(app.openapi(), app.routes)
