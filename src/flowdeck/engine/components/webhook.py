"""Webhook: where the body of a webhook call enters a flow, as Data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType


def payload_data(raw: str) -> tuple[dict[str, Any], bool]:
    """A webhook body as a Data record, and whether it was a JSON object.

    A JSON object is the record itself; any other body goes under `payload`, as in Langflow.
    """
    if not raw.strip():
        return {}, True
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {"payload": raw}, False
    return (body, True) if isinstance(body, dict) else ({"payload": body}, False)


class Webhook(Component):
    """Receives the run's input when a webhook triggers the run.

    A host runs a webhook call with `RunRequest(input_value=<body text>, input_type="webhook")`:
    the executor hands `input_value` to every component whose `input_kind` is "webhook", so this
    component reads it from its `input_value` field. `data` is the payload typed into the node
    (Langflow keeps a sample there); it is used when the run brings no webhook body.
    """

    type_name = "Webhook"
    display_name = "Webhook"
    description = "The body of a webhook call (JSON becomes Data; other text goes under payload)."
    category = "data"
    input_kind = "webhook"
    inputs = (
        Input(
            "data",
            DataType.TEXT,
            default="",
            display_name="Payload",
            info="Used when the run is not triggered by a webhook.",
        ),
        Input(
            "input_value",
            DataType.TEXT,
            default="",
            advanced=True,
            info="Set by the host to the webhook call's body.",
        ),
    )
    outputs = (Output("output_data", DataType.DATA, "Data"),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        raw = params["input_value"] or params["data"] or ""
        data, is_object = payload_data(raw)
        if not is_object:
            ctx.log("webhook body is not a JSON object; passed on under 'payload'", "warning")
        return {"output_data": data}
