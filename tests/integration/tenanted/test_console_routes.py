"""The console's page and files, and the API docs pages, as any HTTP client sees them."""

from __future__ import annotations

import gzip

import httpx
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="module")


async def test_console_page_at_root(anon: httpx.AsyncClient) -> None:
    resp = await anon.get("/")
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/console/js/app.js">' in resp.text
    # The API is untouched: an unknown API path is still a JSON 404.
    missing = await anon.get("/api/v1/no-such-route")
    assert missing.status_code == 404
    assert missing.json()["detail"]


async def test_the_page_says_where_the_docs_are_and_how_to_sign_in(
    anon: httpx.AsyncClient,
) -> None:
    # Read by any client, before (or without) the console's script: the page itself says it.
    text = (await anon.get("/")).text
    for link in ('href="/docs"', 'href="/redoc"', 'href="/openapi.json"'):
        assert link in text
    assert "POST /api/v1/login" in text
    assert "FLOWDECK_SUPERUSER_PASSWORD" in text
    assert "POST /api/v1/api_key/" in text
    assert "x-api-key" in text
    # The sign-in form the script draws repeats where the docs and the keys are.
    script = (await anon.get("/console/js/app.js")).text
    assert '"/docs"' in script
    assert "create API keys under API keys" in script


async def test_files_are_compressed_and_revalidated(anon: httpx.AsyncClient) -> None:
    resp = await anon.get("/console/js/app.js", headers={"accept-encoding": "gzip"})
    assert resp.status_code == 200
    assert resp.headers["content-type"].startswith("text/javascript")
    assert resp.headers["content-encoding"] == "gzip"
    assert b"hashchange" in resp.content  # httpx decoded it
    plain = await anon.get("/console/js/app.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers
    assert gzip.compress(plain.content) != plain.content
    again = await anon.get("/console/js/app.js", headers={"if-none-match": resp.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize(
    "path",
    [
        "/console/../api/console.py",
        "/console/%2e%2e/api/console.py",
        "/console/vendor/README.md",  # not a kind of file the console serves
        "/console/js/nope.js",
        "/console/",
    ],
)
async def test_only_console_files_are_served(anon: httpx.AsyncClient, path: str) -> None:
    resp = await anon.get(path)
    assert resp.status_code == 404
    assert "def " not in resp.text


async def test_docs_use_vendored_assets(anon: httpx.AsyncClient) -> None:
    docs = await anon.get("/docs")
    assert docs.status_code == 200
    assert "/console/vendor/swagger-ui/swagger-ui-bundle.js" in docs.text
    assert 'data-spec-url="/openapi.json"' in docs.text
    assert "cdn" not in docs.text
    redoc = await anon.get("/redoc")
    assert "/console/vendor/redoc/redoc.standalone.js" in redoc.text
    for asset in (
        "/console/vendor/swagger-ui/swagger-ui-bundle.js",
        "/console/vendor/swagger-ui/swagger-ui.css",
        "/console/docs/swagger-init.js",
        "/console/vendor/redoc/redoc.standalone.js",
    ):
        assert (await anon.get(asset)).status_code == 200, asset
    spec = (await anon.get("/openapi.json")).json()
    assert "/" not in spec["paths"]
    assert not any(p.startswith(("/console", "/docs", "/redoc")) for p in spec["paths"])
