"""Session cookie attributes, and run endpoints that need an API key or a bearer token."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from flowdeck.api.deps import ACCESS_COOKIE, REFRESH_COOKIE
from tests.conftest import ADMIN
from tests.integration.api.test_runs import ECHO, add_flow

pytestmark = pytest.mark.asyncio(loop_scope="module")

FORM = {"username": ADMIN[0], "password": ADMIN[1]}


def _cookies(resp: httpx.Response) -> dict[str, list[str]]:
    """Each Set-Cookie header's name and its attributes, lowercased."""
    out: dict[str, list[str]] = {}
    for header in resp.headers.get_list("set-cookie"):
        name_value, *attributes = [part.strip() for part in header.split(";")]
        out[name_value.split("=", 1)[0]] = [a.lower() for a in attributes]
    return out


async def _login(app: Any, base_url: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=base_url) as c:
        return await c.post("/api/v1/login", data=FORM, headers=headers)


async def test_session_cookies_are_httponly_lax_and_secure_over_https(app: FastAPI) -> None:
    for base_url, secure in (("http://test", False), ("https://test", True)):
        cookies = _cookies(await _login(app, base_url))
        for name in (ACCESS_COOKIE, REFRESH_COOKIE):
            attributes = cookies[name]
            assert "httponly" in attributes, (name, attributes)
            assert "samesite=lax" in attributes, (name, attributes)
            assert ("secure" in attributes) is secure, (base_url, name, attributes)


async def test_cookies_secure_behind_a_trusted_proxy(app: FastAPI) -> None:
    # How uvicorn serves the app: X-Forwarded-Proto counts only from a trusted proxy.
    trusted = ProxyHeadersMiddleware(app, trusted_hosts="127.0.0.1")  # type: ignore[arg-type]
    cookies = _cookies(await _login(trusted, "http://test", **{"x-forwarded-proto": "https"}))
    assert "secure" in cookies[ACCESS_COOKIE]
    untrusted = ProxyHeadersMiddleware(app, trusted_hosts="10.0.0.1")  # type: ignore[arg-type]
    cookies = _cookies(await _login(untrusted, "http://test", **{"x-forwarded-proto": "https"}))
    assert "secure" not in cookies[ACCESS_COOKIE]


RUN_ROUTES = [
    ("POST", "/api/v1/run/{flow}", {"input_value": "hi"}),
    ("POST", "/api/v1/run/advanced/{flow}", {"inputs": [{"input_value": "hi"}]}),
    ("POST", "/api/v1/webhook/{flow}", {"event": "push"}),
    ("POST", "/api/v2/workflows", {"flow_id": "{flow}", "background": True}),
    ("GET", "/api/v2/workflows?job_id=00000000-0000-0000-0000-000000000000", None),
    ("POST", "/api/v2/workflows/stop", {"job_id": "00000000-0000-0000-0000-000000000000"}),
    ("POST", "/api/v1/responses", {"model": "{flow}", "input": "hi", "background": True}),
    ("GET", "/api/v1/responses/none", None),
]


def _fill(value: Any, flow_id: str) -> Any:
    if isinstance(value, str):
        return value.replace("{flow}", flow_id)
    if isinstance(value, dict):
        return {k: _fill(v, flow_id) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, flow_id) for v in value]
    return value


async def _call(
    c: httpx.AsyncClient, flow_id: str, method: str, path: str, body: Any, **headers: str
) -> httpx.Response:
    return await c.request(method, _fill(path, flow_id), json=_fill(body, flow_id), headers=headers)


async def test_run_routes_refuse_the_session_cookie_alone(
    app: FastAPI, anon: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    login = await anon.post("/api/v1/login", data=FORM)
    token = login.json()["access_token"]
    assert ACCESS_COOKIE in anon.cookies
    # Other routes take the cookie.
    assert (await anon.get("/api/v1/users/whoami")).status_code == 200
    assert (await anon.get("/api/v1/flows/")).status_code == 200
    for method, path, body in RUN_ROUTES:
        resp = await _call(anon, flow_id, method, path, body)
        assert resp.status_code == 401, (path, resp.text)
        assert "API key" in resp.json()["message"]
        with_bearer = await _call(
            anon, flow_id, method, path, body, authorization=f"Bearer {token}"
        )
        assert with_bearer.status_code not in (401, 403), (path, with_bearer.text)


async def test_run_routes_take_an_api_key(
    app: FastAPI, client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    flow_id = await add_flow(app, ECHO)
    key = (await client.post("/api/v1/api_key/", json={"name": "runs"})).json()["api_key"]
    by_header = await anon.post(
        f"/api/v1/run/{flow_id}", json={"input_value": "k"}, headers={"x-api-key": key}
    )
    assert by_header.status_code == 200, by_header.text
    out = by_header.json()["outputs"][0]["outputs"][0]
    assert out["outputs"]["message"]["message"] == "k"
    by_query = await anon.post(f"/api/v1/run/{flow_id}", params={"x-api-key": key}, json={})
    assert by_query.status_code == 200, by_query.text
