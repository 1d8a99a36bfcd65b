"""Browser-facing protections: security headers on every answer, CORS, files never active."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from tests.integration.api.flow_docs import create
from tests.integration.api.test_files import V1, V2, upload_v1

from flowdeck.api.app import create_app
from flowdeck.api.files import FILE_CSP
from flowdeck.settings import Settings

SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.cookie)</script></svg>'
ACTIVE = {
    "page.html": b"<script>alert(1)</script>",
    "pic.svg": SVG,
    "code.js": b"alert(1)",
    "page.xhtml": b"<html xmlns='http://www.w3.org/1999/xhtml'/>",
}


def assert_secured(response: httpx.Response) -> None:
    headers = response.headers
    assert headers["x-content-type-options"] == "nosniff", response.request.url
    assert headers["x-frame-options"] == "DENY"
    assert "frame-ancestors 'none'" in headers.get_list("content-security-policy")
    assert headers["referrer-policy"] == "no-referrer"


async def test_every_kind_of_answer_has_the_security_headers(
    client: httpx.AsyncClient, anon: httpx.AsyncClient, app: FastAPI, settings: Settings
) -> None:
    assert_secured(await anon.get("/health"))  # plain JSON
    assert_secured(await anon.get("/api/v1/flows/"))  # 401
    assert_secured(await client.get("/api/v1/no-such-route"))  # 404
    too_big = await client.post("/api/v1/flows/", content=b"x" * (settings.max_body_bytes + 1))
    assert too_big.status_code == 413
    assert_secured(too_big)
    flow_id = (await create(client, "Streamed"))["id"]
    async with client.stream("POST", f"/api/v1/run/{flow_id}?stream=true", json={}) as streamed:
        assert streamed.status_code == 200
        assert_secured(streamed)

    async def boom() -> None:
        raise RuntimeError("unexpected")

    # An unexpected error's 500 is sent by Starlette's outermost layer: headers there too.
    app.add_api_route("/boom-for-test", boom)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as raw:
        failed = await raw.get("/boom-for-test")
    assert failed.status_code == 500
    assert_secured(failed)


@pytest.fixture
async def cors_app(settings: Settings) -> AsyncIterator[FastAPI]:
    configured = settings.model_copy(update={"cors_origins": ["https://console.example"]})
    application = create_app(configured)
    async with application.router.lifespan_context(application):
        yield application


def _preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_cors_preflight_allowed_and_refused(cors_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=cors_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        allowed = await c.options("/api/v1/flows/", headers=_preflight("https://console.example"))
        assert allowed.status_code == 200
        assert allowed.headers["access-control-allow-origin"] == "https://console.example"
        assert allowed.headers["access-control-allow-credentials"] == "true"
        assert "POST" in allowed.headers["access-control-allow-methods"]
        assert_secured(allowed)
        refused = await c.options("/api/v1/flows/", headers=_preflight("https://evil.example"))
        assert refused.status_code == 400
        assert "access-control-allow-origin" not in refused.headers
        simple = await c.get("/health", headers={"Origin": "https://console.example"})
        assert simple.headers["access-control-allow-origin"] == "https://console.example"
        assert "x-request-id" in simple.headers["access-control-expose-headers"].lower()


async def test_cors_is_off_by_default(anon: httpx.AsyncClient) -> None:
    preflight = await anon.options("/api/v1/flows/", headers=_preflight("https://console.example"))
    assert "access-control-allow-origin" not in preflight.headers
    simple = await anon.get("/health", headers={"Origin": "https://console.example"})
    assert "access-control-allow-origin" not in simple.headers


async def test_active_files_are_attachments_on_every_download_route(
    client: httpx.AsyncClient,
) -> None:
    flow_id = (await create(client, "Active files"))["id"]
    for name, content in ACTIVE.items():
        stored = (await upload_v1(client, flow_id, name, content)).json()["file_path"]
        got = await client.get(f"{V1}/download/{stored}")
        assert got.content == content
        assert got.headers["content-disposition"].startswith("attachment;"), name
        assert got.headers.get_list("content-security-policy")[0] == FILE_CSP
        mine = (await client.post(V2, files={"file": (name, content)})).json()
        got = await client.get(f"{V2}/{mine['id']}")
        assert got.content == content
        assert got.headers["content-disposition"].startswith("attachment;"), name
        assert FILE_CSP in got.headers.get_list("content-security-policy")


async def test_an_svg_image_is_never_shown_inline(
    client: httpx.AsyncClient, settings: Settings
) -> None:
    flow_id = (await create(client, "SVG"))["id"]
    stored = (await upload_v1(client, flow_id, "logo.svg", SVG)).json()["file_path"]
    shown = await client.get(f"{V1}/images/{stored}")
    assert shown.status_code == 200
    # Still an image for <img> (which runs no scripts); opened as a page it is downloaded,
    # and the sandbox policy stops its script should a browser render it anyway.
    assert shown.headers["content-type"] == "image/svg+xml"
    assert shown.headers["content-disposition"].startswith("attachment;")
    assert FILE_CSP in shown.headers.get_list("content-security-policy")
    assert_secured(shown)
    people = settings.data_dir / "profile_pictures" / "People"
    people.mkdir(parents=True)
    (people / "p1.svg").write_bytes(SVG)
    (people / "p2.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    avatar = await client.get(f"{V1}/profile_pictures/People/p1.svg")
    assert avatar.headers["content-disposition"].startswith("attachment;")
    raster = await client.get(f"{V1}/profile_pictures/People/p2.png")
    assert raster.headers["content-disposition"].startswith("inline;")
