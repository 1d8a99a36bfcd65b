from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Route

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.components.api_request import normalize_url
from flowdeck.engine.results import RunStatus

from ._support import closed_port, flow, run, serve


async def _echo(request: Request) -> Response:
    raw = await request.body()
    try:
        body: Any = await request.json() if raw else None
    except ValueError:
        body = raw.decode()
    return JSONResponse(
        {
            "method": request.method,
            "path": request.url.path,
            "query": dict(request.query_params),
            "headers": {k: v for k, v in request.headers.items() if k.startswith("x-")},
            "content_type": request.headers.get("content-type"),
            "body": body,
        },
        headers={"X-Served-By": "test"},
    )


async def _text(request: Request) -> Response:
    return PlainTextResponse("plain words")


async def _status(request: Request) -> Response:
    code = int(request.path_params["code"])
    return JSONResponse({"error": f"status {code} on purpose"}, status_code=code)


async def _slow(request: Request) -> Response:
    await asyncio.sleep(1.0)
    return PlainTextResponse("late")


async def _redirect(request: Request) -> Response:
    return RedirectResponse("/echo?redirected=1", status_code=302)


app = Starlette(
    routes=[
        Route("/echo", _echo, methods=["GET", "POST", "PUT", "PATCH", "DELETE"]),
        Route("/text", _text),
        Route("/status/{code}", _status),
        Route("/slow", _slow),
        Route("/redirect", _redirect),
    ]
)


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve(app) as url:
        yield url


def _request(**params: Any) -> dict[str, Any]:
    return flow([("api", "APIRequest", params)])


async def test_get_with_query_and_langflow_table_headers(engine: Engine, base_url: str) -> None:
    ran = await run(
        engine,
        _request(
            url_input=f"{base_url}/echo?a=1",
            query_params={"b": "2"},
            headers=[{"key": "X-Token", "value": "abc"}],
        ),
    )
    data = ran.out("api", "data")
    assert data["status_code"] == 200
    assert data["source"] == f"{base_url}/echo?a=1&b=2"
    assert data["headers"]["x-served-by"] == "test"
    assert data["result"]["method"] == "GET"
    assert data["result"]["query"] == {"a": "1", "b": "2"}
    assert data["result"]["headers"] == {"x-token": "abc"}
    assert data["result"]["body"] is None


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH"])
async def test_structured_body_is_sent_as_json(engine: Engine, base_url: str, method: str) -> None:
    ran = await run(
        engine,
        _request(url_input=f"{base_url}/echo", method=method, body={"name": "Ada", "n": [1, 2]}),
    )
    result = ran.out("api", "data")["result"]
    assert result["method"] == method
    assert result["content_type"] == "application/json"
    assert result["body"] == {"name": "Ada", "n": [1, 2]}


async def test_body_from_an_edge_as_json_text_or_raw_text(engine: Engine, base_url: str) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("api", "APIRequest", {"url_input": f"{base_url}/echo", "method": "post"}),
        ],
        [("in.message", "api.body")],
    )
    ran = await run(engine, doc, RunRequest(input_value='{"q": "json text"}'))
    assert ran.out("api", "data")["result"]["body"] == {"q": "json text"}
    ran = await run(engine, doc, RunRequest(input_value="just words"))
    assert ran.out("api", "data")["result"]["body"] == "just words"


async def test_text_response_and_downstream_parser(engine: Engine, base_url: str) -> None:
    doc = flow(
        [
            ("api", "APIRequest", {"url_input": f"{base_url}/text"}),
            ("p", "ParserComponent", {"pattern": "{status_code}: {result}"}),
        ],
        [("api.data", "p.input_data")],
    )
    ran = await run(engine, doc)
    assert ran.out("api", "data")["text"] == "plain words"
    assert ran.text("p") == "200: plain words"


async def test_redirects_are_followed(engine: Engine, base_url: str) -> None:
    ran = await run(engine, _request(url_input=f"{base_url}/redirect"))
    data = ran.out("api", "data")
    assert data["status_code"] == 200
    assert data["result"]["query"] == {"redirected": "1"}


async def test_http_error_is_a_component_error(engine: Engine, base_url: str) -> None:
    ran = await run(engine, _request(url_input=f"{base_url}/status/404"))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "api"
    error = ran.result.error or ""
    assert error.startswith("API Request (api): GET ")
    assert "returned 404 Not Found" in error
    assert "status 404 on purpose" in error


async def test_http_error_passed_on_when_not_raising(engine: Engine, base_url: str) -> None:
    ran = await run(engine, _request(url_input=f"{base_url}/status/503", raise_on_error=False))
    data = ran.out("api", "data")
    assert data["status_code"] == 503
    assert data["result"] == {"error": "status 503 on purpose"}


@pytest.mark.parametrize("url", ["http://exa mple.com/x", "ftp://example.com/f", "https://"])
async def test_invalid_url_is_a_component_error(engine: Engine, url: str) -> None:
    ran = await run(engine, _request(url_input=url))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "api"
    assert f"invalid URL {url!r}" in (ran.result.error or "")


async def test_missing_url_is_a_component_error(engine: Engine) -> None:
    ran = await run(engine, _request())
    assert "no URL given" in (ran.result.error or "")


async def test_connection_refused_is_a_component_error(engine: Engine) -> None:
    url = f"http://127.0.0.1:{closed_port()}/x"
    ran = await run(engine, _request(url_input=url))
    assert ran.result.status is RunStatus.FAILED
    assert f"GET {url} failed" in (ran.result.error or "")


async def test_timeout_is_a_component_error(engine: Engine, base_url: str) -> None:
    started = time.perf_counter()
    ran = await run(engine, _request(url_input=f"{base_url}/slow", timeout=0.2))
    assert time.perf_counter() - started < 0.9
    assert ran.result.status is RunStatus.FAILED
    assert "timed out after 0.2s" in (ran.result.error or "")


async def test_langflow_urls_list_requests_each(engine: Engine, base_url: str) -> None:
    ran = await run(engine, _request(urls=[f"{base_url}/echo?n=1", f"{base_url}/echo?n=2"]))
    data = ran.out("api", "data")
    assert [d["result"]["query"]["n"] for d in data] == ["1", "2"]


def test_url_without_scheme_gets_https() -> None:
    assert normalize_url(" example.com/path ") == "https://example.com/path"
    assert normalize_url("http://[::1]:8080/x") == "http://[::1]:8080/x"
