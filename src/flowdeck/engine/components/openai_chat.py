"""A chat model behind any OpenAI-compatible `/chat/completions` endpoint, streamed or not."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from flowdeck.engine.components._values import number
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message, to_text

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
_ERROR_BODY_CHARS = 300


def api_error(status: int, body: bytes) -> str:
    """A readable error from an error response: OpenAI's `error.message` when it has one."""
    detail = body.decode(errors="replace").strip()[:_ERROR_BODY_CHARS]
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = None
    if isinstance(doc, dict):
        err = doc.get("error", doc.get("detail"))
        if isinstance(err, dict) and err.get("message"):
            detail = str(err["message"])
        elif isinstance(err, str):
            detail = err
    return f"model API returned HTTP {status}" + (f": {detail}" if detail else "")


def _chunk_error(chunk: Mapping[str, Any]) -> str:
    err = chunk.get("error")
    return str(err.get("message") or err) if isinstance(err, dict) else str(err)


class OpenAIChat(Component):
    type_name = "OpenAIChat"
    # Langflow's OpenAI model; its field names are accepted as aliases of the native ones.
    aliases = ("OpenAIModel",)
    display_name = "OpenAI Chat"
    description = "Chat with an OpenAI-compatible model; the reply streams as token events."
    category = "models"
    inputs = (
        Input("input_value", DataType.TEXT, default="", display_name="Input"),
        Input("system_message", DataType.TEXT, default="", display_name="System Message"),
        Input("base_url", DataType.TEXT, default=DEFAULT_BASE_URL, display_name="Base URL"),
        Input("model", DataType.TEXT, default=DEFAULT_MODEL, display_name="Model"),
        Input("api_key", DataType.TEXT, default="", display_name="API Key"),
        Input("temperature", DataType.NUMBER, default=0.1),
        Input("max_tokens", DataType.NUMBER, advanced=True, info="Empty or 0: no limit."),
        Input("stream", DataType.BOOLEAN, default=True),
        Input("timeout", DataType.NUMBER, default=120, advanced=True, display_name="Timeout (s)"),
        Input(
            "openai_api_base", DataType.TEXT, advanced=True, info="Langflow's name for base_url."
        ),
        Input("model_name", DataType.TEXT, advanced=True, info="Langflow's name for model."),
        Input(
            "provider",
            DataType.TEXT,
            default="",
            display_name="Provider",
            info="A registered provider's provider_key: its base URL and API key are used, "
            "and model_name must be one of its models (looked up in the run's tenant).",
        ),
    )
    # `text_output` is Langflow's name for the reply; both carry the same message.
    outputs = (
        Output("message", DataType.MESSAGE, "Message"),
        Output("text_output", DataType.MESSAGE, "Model Response"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        import httpx  # loaded on first use: it costs ~85 ms of CLI start-up

        base = (params["openai_api_base"] or params["base_url"] or DEFAULT_BASE_URL).rstrip("/")
        model = params["model_name"] or params["model"]
        if not model:
            raise ValueError("no model given")
        api_key, max_tokens_field = params["api_key"], "max_tokens"
        if params["provider"]:
            registries, tenant = ctx.registries("model provider")
            target = await registries.chat_model(tenant, str(params["provider"]), str(model))
            base, model = target.base_url.rstrip("/"), target.model
            api_key, max_tokens_field = target.api_key, target.max_tokens_field
        messages = []
        if params["system_message"]:
            messages.append({"role": "system", "content": params["system_message"]})
        messages.append({"role": "user", "content": to_text(params["input_value"])})
        stream = params["stream"] is not False
        payload: dict[str, Any] = {"model": model, "messages": messages, "stream": stream}
        if params["temperature"] not in (None, ""):
            payload["temperature"] = number(params["temperature"], 0.1, "temperature")
        max_tokens = int(number(params["max_tokens"], 0, "max_tokens"))
        if max_tokens > 0:
            payload[max_tokens_field] = max_tokens
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        timeout = number(params["timeout"], 120, "timeout")
        url = f"{base}/chat/completions"
        message = Message(text="", session_id=ctx.session_id)
        try:
            if stream:
                text, usage = await self._stream(ctx, url, payload, headers, timeout, message.id)
            else:
                response = await ctx.http.post(url, json=payload, headers=headers, timeout=timeout)
                if response.is_error:
                    raise ValueError(api_error(response.status_code, response.content))
                text, usage = _completion(response.content)
        except httpx.TimeoutException:
            raise ValueError(f"model API at {url} timed out after {timeout:g}s") from None
        except httpx.HTTPError as exc:
            raise ValueError(f"cannot reach the model API at {url}: {exc}") from None
        message.text = text
        message.properties = {"model": model, **({"usage": usage} if usage else {})}
        if params["provider"]:
            message.properties["provider"] = params["provider"]
        ctx.send_message(message)
        return {"message": message, "text_output": message}

    async def _stream(
        self,
        ctx: VertexContext,
        url: str,
        payload: dict[str, Any],
        headers: dict[str, str],
        time_limit: float,
        message_id: str,
    ) -> tuple[str, dict[str, Any] | None]:
        """POST with stream=true and read the SSE reply, emitting each delta as a token."""
        parts: list[str] = []
        usage: dict[str, Any] | None = None
        async with ctx.http.stream(
            "POST", url, json=payload, headers=headers, timeout=time_limit
        ) as response:
            if response.is_error:
                raise ValueError(api_error(response.status_code, await response.aread()))
            if response.headers.get("content-type", "").startswith("application/json"):
                # A server that ignores stream=true answers with one JSON completion.
                return _completion(await response.aread())
            async for line in response.aiter_lines():
                if not line.startswith("data:"):
                    continue  # blank separators, `event:` lines and `:` keep-alive comments
                data = line[5:].strip()
                if data == "[DONE]":
                    break
                try:
                    chunk = orjson.loads(data)
                except orjson.JSONDecodeError:
                    raise ValueError(f"model API sent an unreadable chunk: {data[:80]!r}") from None
                if chunk.get("error"):
                    raise ValueError(f"model API error: {_chunk_error(chunk)}")
                usage = chunk.get("usage") or usage
                for choice in chunk.get("choices") or ():
                    content = (choice.get("delta") or {}).get("content")
                    if content:
                        parts.append(content)
                        ctx.emit_token(content, message_id)
        return "".join(parts), usage


def _completion(body: bytes) -> tuple[str, dict[str, Any] | None]:
    """The reply text and usage of a non-streamed chat completion."""
    try:
        doc = orjson.loads(body)
        content = doc["choices"][0]["message"].get("content") or ""
    except (orjson.JSONDecodeError, KeyError, IndexError, TypeError, AttributeError):
        raise ValueError(f"model API sent an unexpected reply: {body[:200]!r}") from None
    return str(content), doc.get("usage")
