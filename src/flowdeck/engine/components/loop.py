"""Loop: run the body once per item and collect what the body feeds back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.graph import LOOP_FEEDBACK_FIELD
from flowdeck.engine.types import DataType, Message


def loop_items(value: Any) -> list[Any]:
    """The items to loop over: a list as is, JSON list text parsed, anything else as one item."""
    if value is None or value == "":
        return []
    if isinstance(value, list | tuple):
        return list(value)
    if isinstance(value, Message):
        value = value.text
    if isinstance(value, str):
        try:
            parsed = orjson.loads(value)
        except orjson.JSONDecodeError:
            return [value]
        return parsed if isinstance(parsed, list) else [parsed]
    return [value]


class LoopComponent(Component):
    """Langflow's Loop. `item` goes to the body, which feeds its result back into the `item`
    input (the graph's feedback edge); `done` carries the collected results after the last item.
    """

    type_name = "LoopComponent"
    display_name = "Loop"
    description = "Run the connected steps once per item; `done` gives the collected results."
    category = "logic"
    allows_loop = True
    inputs = (
        Input(
            "data",
            DataType.ANY,
            display_name="Inputs",
            info="A list of Data (or JSON list text) to iterate over.",
        ),
        Input(
            LOOP_FEEDBACK_FIELD,
            DataType.ANY,
            display_name="Item result",
            info="Where the loop body feeds each item's result back.",
        ),
    )
    outputs = (
        Output("item", DataType.ANY, "Item"),
        Output("done", DataType.LIST, "Done"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        items = loop_items(params["data"])
        collected: list[Any] = []
        for item in items:
            # Items run one after another: a body may depend on the order (or rate limits).
            collected.extend(await ctx.iterate(item))
        ctx.log(f"looped over {len(items)} items, collected {len(collected)} results")
        return {"done": collected}
