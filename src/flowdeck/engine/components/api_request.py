"""HTTP requests (Langflow's API Request), made with the engine's shared httpx client."""

from __future__ import annotations

import asyncio
import ipaddress
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from flowdeck.engine.components._values import number
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text

METHODS = ("GET", "POST", "PATCH", "PUT", "DELETE", "HEAD")
_HOST = re.compile(r"^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9])?\.?)+$")
# How much of an error response goes into the component's error message.
_ERROR_BODY_CHARS = 300


def normalize_url(raw: str) -> str:
    """Check a URL (adding https:// when no scheme is given, as Langflow does)."""
    url = raw.strip()
    if not url:
        raise ValueError("no URL given")
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    try:
        host = parts.hostname or ""
        _ = parts.port  # raises on a port that is not a number
    except ValueError:
        host = ""
    if parts.scheme not in ("http", "https") or not (_HOST.match(host) or _is_ip(host)):
        raise ValueError(f"invalid URL {raw!r}: need http(s)://host/...")
    return url


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _pairs(value: Any, what: str) -> dict[str, Any]:
    """A dict from a dict, JSON text, `a=1&b=2` text, or Langflow's [{key, value}] table."""
    if value is None or value == "" or value == []:
        return {}
    if isinstance(value, Message):
        value = value.text
    if isinstance(value, str):
        try:
            value = orjson.loads(value)
        except orjson.JSONDecodeError:
            if "=" in value:
                return dict(parse_qsl(value, keep_blank_values=True))
            raise ValueError(f"{what} must be an object, JSON text or key=value pairs") from None
    if isinstance(value, list) and all(isinstance(i, dict) and "key" in i for i in value):
        return {str(i["key"]): i.get("value") for i in value}
    if isinstance(value, dict):
        return value
    raise ValueError(f"{what} must be an object, not {type(value).__name__}")


def _body(value: Any) -> dict[str, Any]:
    """Request body arguments for httpx: JSON for structured values, content for raw text."""
    if value is None or value == "" or value == [] or value == {}:
        return {}
    if isinstance(value, Message):
        value = value.text
    if isinstance(value, str):
        try:
            return {"json": orjson.loads(value)}
        except orjson.JSONDecodeError:
            return {"content": value.encode()}
    if isinstance(value, list) and value and all(isinstance(i, dict) and "key" in i for i in value):
        return {"json": _pairs(value, "body")}
    return {"json": value}


class APIRequest(Component):
    type_name = "APIRequest"
    display_name = "API Request"
    description = "Make an HTTP request; the response becomes Data (status, headers, result)."
    category = "data"
    inputs = (
        Input("url_input", DataType.TEXT, default="", display_name="URL"),
        Input(
            "urls",
            DataType.TEXT,
            is_list=True,
            display_name="URLs",
            info="Langflow 1.1's field: several URLs, requested concurrently.",
        ),
        Input("method", DataType.TEXT, default="GET", options=METHODS),
        Input(
            "headers",
            DataType.ANY,
            display_name="Headers",
            info="An object, JSON text or Langflow's [{key, value}] table.",
        ),
        Input(
            "body",
            DataType.ANY,
            display_name="Body",
            info="Sent as JSON when structured, as raw text otherwise.",
        ),
        Input("query_params", DataType.ANY, display_name="Query Parameters"),
        Input("timeout", DataType.NUMBER, default=30, display_name="Timeout (s)"),
        Input("follow_redirects", DataType.BOOLEAN, default=True, advanced=True),
        Input(
            "raise_on_error",
            DataType.BOOLEAN,
            default=True,
            advanced=True,
            info="Fail the step on a 4xx/5xx response instead of passing it on.",
        ),
    )
    outputs = (Output("data", DataType.DATA, "API Response"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        import httpx  # loaded on first use: it costs ~85 ms of CLI start-up

        raw = params["urls"]
        urls = [u for u in ([raw] if isinstance(raw, str) else raw or []) if u]
        if params["url_input"]:
            urls = [params["url_input"]]
        if not urls:
            raise ValueError("no URL given (set url_input)")
        method = str(params["method"] or "GET").upper()
        if method not in METHODS:
            raise ValueError(f"unsupported method {method!r}; use one of {', '.join(METHODS)}")
        query = _pairs(params["query_params"], "query_params")
        # Merged into the URL's own query string (httpx's params= would replace it).
        checked = [str(httpx.URL(normalize_url(to_text(u))).copy_merge_params(query)) for u in urls]
        headers = {str(k): to_text(v) for k, v in _pairs(params["headers"], "headers").items()}
        timeout = number(params["timeout"], 30, "timeout")
        body = _body(params["body"]) if method not in ("GET", "HEAD") else {}
        results = await asyncio.gather(
            *(self._request(ctx, method, url, headers, body, timeout, params) for url in checked)
        )
        return {"data": results[0] if len(results) == 1 else list(results)}

    async def _request(
        self,
        ctx: VertexContext,
        method: str,
        url: str,
        headers: dict[str, str],
        body: dict[str, Any],
        time_limit: float,
        params: dict[str, Any],
    ) -> dict[str, Any]:
        import httpx  # loaded on first use: it costs ~85 ms of CLI start-up

        try:
            response = await ctx.http.request(
                method,
                url,
                headers=headers,
                timeout=time_limit,
                follow_redirects=params["follow_redirects"] is not False,
                **body,
            )
        except httpx.TimeoutException:
            raise ValueError(f"{method} {url} timed out after {time_limit:g}s") from None
        except httpx.HTTPError as exc:
            reason = str(exc) or type(exc).__name__
            raise ValueError(f"{method} {url} failed: {reason}") from None
        ctx.log(f"{method} {url} -> {response.status_code}")
        text = response.text
        if response.is_error and params["raise_on_error"] is not False:
            snippet = text[:_ERROR_BODY_CHARS]
            raise ValueError(
                f"{method} {url} returned {response.status_code} {response.reason_phrase}"
                + (f": {snippet}" if snippet else "")
            )
        try:
            result: Any = response.json() if text else None
        except ValueError:
            result = text
        return {
            "source": url,
            "status_code": response.status_code,
            "headers": {k.lower(): v for k, v in response.headers.items()},
            "result": result,
            "text": text,
        }
