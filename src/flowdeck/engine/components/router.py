"""Conditional router (Langflow's If-Else): compare a text, then take one of two branches."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.context import VertexContext
from flowdeck.engine.types import DataType, Message

_TEXT_OPS: dict[str, Callable[[str, str], bool]] = {
    "equals": lambda a, b: a == b,
    "not equals": lambda a, b: a != b,
    "contains": lambda a, b: b in a,
    "starts with": lambda a, b: a.startswith(b),
    "ends with": lambda a, b: a.endswith(b),
}
_NUMBER_OPS: dict[str, Callable[[float, float], bool]] = {
    "less than": lambda a, b: a < b,
    "less than or equal": lambda a, b: a <= b,
    "greater than": lambda a, b: a > b,
    "greater than or equal": lambda a, b: a >= b,
}
OPERATORS = (*_TEXT_OPS, "regex", *_NUMBER_OPS)


def _number(text: str, operator: str, what: str) -> float:
    try:
        return float(text.strip())
    except ValueError:
        raise ValueError(f"'{operator}' compares numbers, but {what} is {text!r}") from None


def evaluate(input_text: str, match_text: str, operator: str, *, case_sensitive: bool) -> bool:
    """Whether the condition holds; a bad operator, regex or number is a ValueError."""
    if operator in _NUMBER_OPS:
        left = _number(input_text, operator, "the input")
        right = _number(match_text, operator, "the match text")
        return _NUMBER_OPS[operator](left, right)
    if operator == "regex":
        # re.match (anchored at the start), as Langflow's router does.
        try:
            pattern = re.compile(match_text, 0 if case_sensitive else re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {match_text!r}: {exc}") from exc
        return pattern.match(input_text) is not None
    op = _TEXT_OPS.get(operator)
    if op is None:
        raise ValueError(f"unknown operator {operator!r}; choose one of {', '.join(OPERATORS)}")
    if not case_sensitive:
        input_text, match_text = input_text.casefold(), match_text.casefold()
    return op(input_text, match_text)


class ConditionalRouter(Component):
    type_name = "ConditionalRouter"
    display_name = "If-Else"
    description = "Compare the input with a text and pass a message down the true or false branch."
    category = "logic"
    inputs = (
        Input("input_text", DataType.TEXT, required=True, display_name="Text Input"),
        Input("operator", DataType.TEXT, default="equals", options=OPERATORS),
        Input("match_text", DataType.TEXT, default="", display_name="Match Text"),
        Input("case_sensitive", DataType.BOOLEAN, default=True),
        Input(
            "message",
            DataType.MESSAGE,
            display_name="Message",
            info="Passed on instead of the input text, whichever branch is taken.",
        ),
        Input(
            "true_case_message",
            DataType.MESSAGE,
            display_name="Case True",
            advanced=True,
            info="Passed on when the condition holds (overrides message).",
        ),
        Input(
            "false_case_message",
            DataType.MESSAGE,
            display_name="Case False",
            advanced=True,
            info="Passed on when it does not (overrides message).",
        ),
    )
    outputs = (
        Output("true_result", DataType.MESSAGE, "True"),
        Output("false_result", DataType.MESSAGE, "False"),
    )

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        text = params["input_text"] or ""
        operator = params["operator"] or "equals"
        result = evaluate(
            text,
            params["match_text"] or "",
            operator,
            case_sensitive=params["case_sensitive"] is not False,
        )
        ctx.log(f"{text!r} {operator} {params['match_text']!r}: {result}")
        specific = params["true_case_message"] if result else params["false_case_message"]
        value = specific or params["message"] or Message(text=text, session_id=ctx.session_id)
        # Only the branch taken gets a value; the executor skips the other one.
        return {"true_result" if result else "false_result": value}
