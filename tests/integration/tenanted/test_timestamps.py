"""Every datetime the API answers carries its time zone, on create and when read back."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.integration.api.test_runs import ECHO, add_flow

pytestmark = pytest.mark.asyncio(loop_scope="module")

# An ISO 8601 date and time, and what ends one that names its zone.
DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")
ZONED = re.compile(r"(Z|[+-]\d{2}:?\d{2})$")


def datetimes(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every (path, text) in a JSON value that reads as a date and time."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield from datetimes(item, f"{path}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from datetimes(item, f"{path}[{i}]")
    elif isinstance(value, str) and DATETIME.match(value):
        yield path, value


def assert_zoned(resp: httpx.Response, *expected: str) -> None:
    """Every datetime in the answer names its zone, and the `expected` fields are among them."""
    assert resp.status_code < 300, resp.text
    found = dict(datetimes(resp.json()))
    naive = {path: text for path, text in found.items() if not ZONED.search(text)}
    assert not naive, f"{resp.request.method} {resp.request.url.path}: {naive}"
    for field in expected:
        assert any(path.endswith(field) for path in found), (field, sorted(found))


async def test_every_resource_reads_back_its_datetimes_with_their_zone(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    made = await client.post("/api/v1/api_key/", json={"name": "cli"})
    assert_zoned(made, "created_at")
    listed = await client.get("/api/v1/api_key/")
    assert_zoned(listed, "created_at")

    user = await client.post("/api/v1/users/", json={"username": "ada", "password": "pw-123456"})
    assert_zoned(user, "create_at", "updated_at")
    assert_zoned(await client.get("/api/v1/users/"), "create_at", "last_login_at")
    assert_zoned(await client.get("/api/v1/users/whoami"), "create_at", "last_login_at")
    patched = await client.patch(f"/api/v1/users/{user.json()['id']}", json={"is_active": True})
    assert_zoned(patched, "create_at", "updated_at")

    flow_id = await add_flow(app, ECHO)
    ran = await client.post(f"/api/v1/run/{flow_id}", json={"input_value": "hi"})
    assert ran.status_code == 200, ran.text
    run_id = ran.json()["run_id"]
    assert_zoned(await client.get(f"/api/v1/runs/{run_id}"), "created_at", "finished_at")
    assert_zoned(await client.get("/api/v1/runs/"), "created_at", "started_at")

    uploaded = await client.post("/api/v2/files", files={"file": ("a.txt", b"hello")})
    assert_zoned(uploaded, "created_at")
    assert_zoned(await client.get("/api/v2/files"), "created_at", "updated_at")
    renamed = await client.put(f"/api/v2/files/{uploaded.json()['id']}", params={"name": "b"})
    assert_zoned(renamed, "created_at", "updated_at")
