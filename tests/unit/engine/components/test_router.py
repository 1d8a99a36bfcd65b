from __future__ import annotations

from typing import Any

import pytest

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus, VertexState

from ._support import Ran, flow, run


def _router_flow(**params: Any) -> dict[str, Any]:
    """Chat input -> router; each branch -> its own step -> its own output."""
    return flow(
        [
            ("in", "ChatInput", {}),
            ("if", "ConditionalRouter", params),
            ("yes", "TextOperations", {"operation": "upper"}),
            ("no", "TextOperations", {"operation": "lower"}),
            ("out_yes", "TextOutput", {}),
            ("out_no", "TextOutput", {}),
        ],
        [
            ("in.message", "if.input_text"),
            ("if.true_result", "yes.text_input"),
            ("if.false_result", "no.text_input"),
            ("yes.message", "out_yes.input_value"),
            ("no.message", "out_no.input_value"),
        ],
    )


async def _route(engine: Engine, text: str, **params: Any) -> Ran:
    return await run(engine, _router_flow(**params), RunRequest(input_value=text))


@pytest.mark.parametrize(
    ("text", "operator", "match", "taken"),
    [
        ("Hello", "equals", "Hello", True),
        ("Hello", "equals", "Bye", False),
        ("Hello", "not equals", "Bye", True),
        ("Hello world", "contains", "lo wo", True),
        ("Hello", "starts with", "He", True),
        ("Hello", "ends with", "He", False),
        ("order-123", "regex", r"order-\d+$", True),
        ("my order-123", "regex", r"order-\d+", False),  # anchored at the start, as Langflow
        ("5", "less than", "10", True),
        ("10", "less than or equal", "10", True),
        ("2.5", "greater than", "10", False),
        ("10", "greater than or equal", "9.99", True),
    ],
)
async def test_operators(engine: Engine, text: str, operator: str, match: str, taken: bool) -> None:
    ran = await _route(engine, text, operator=operator, match_text=match)
    assert ran.result.ok
    took, skipped = ("yes", "no") if taken else ("no", "yes")
    assert ran.state(took) is VertexState.COMPLETED
    assert ran.state(skipped) is VertexState.INACTIVE
    assert ran.state(f"out_{skipped}") is VertexState.INACTIVE
    assert ran.end_vertex("if")["inactivated_vertices"] == [skipped]


async def test_only_the_taken_branch_has_a_value(engine: Engine) -> None:
    ran = await _route(engine, "Hello", operator="equals", match_text="Hello")
    assert set(ran.result.vertices["if"].outputs) == {"true_result"}
    assert ran.text("if", "true_result") == "Hello"
    assert ran.text("out_yes") == "HELLO"
    build = ran.end_vertex("if")
    assert build["valid"] is True
    assert build["inactivated_vertices"] == ["no"]
    assert build["data"]["outputs"] == {"true_result": {"message": "Hello", "type": "text"}}
    # Skipped steps get no end_vertex event of their own.
    ids = [e["build_data"]["id"] for e in ran.sink.of("end_vertex")]
    assert "no" not in ids
    assert "out_no" not in ids
    # The run's answer comes from the branch that ran.
    chosen = ran.result.select(ran.graph, output_type="text")
    assert [v.id for v in chosen] == ["out_yes"]


async def test_case_insensitive_comparison(engine: Engine) -> None:
    ran = await _route(engine, "HELLO", operator="equals", match_text="hello", case_sensitive=False)
    assert ran.state("yes") is VertexState.COMPLETED
    ran = await _route(engine, "HELLO", operator="equals", match_text="hello")
    assert ran.state("no") is VertexState.COMPLETED  # case-sensitive by default


async def test_message_is_passed_on_instead_of_the_input(engine: Engine) -> None:
    ran = await _route(engine, "x", operator="equals", match_text="y", message="replacement")
    assert ran.text("out_no") == "replacement"
    ran = await _route(
        engine, "x", operator="equals", match_text="x", message="m", true_case_message="for true"
    )
    assert ran.text("out_yes") == "FOR TRUE"


async def test_number_operator_with_text_is_a_component_error(engine: Engine) -> None:
    ran = await _route(engine, "abc", operator="less than", match_text="3")
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "if"
    assert "'less than' compares numbers, but the input is 'abc'" in (ran.result.error or "")
    # Steps behind the failed router are skipped.
    assert ran.state("yes") is VertexState.INACTIVE
    assert ran.state("no") is VertexState.INACTIVE


async def test_invalid_regex_and_unknown_operator_are_errors(engine: Engine) -> None:
    ran = await _route(engine, "abc", operator="regex", match_text="(")
    assert "invalid regular expression '('" in (ran.result.error or "")
    ran = await _route(engine, "abc", operator="is about", match_text="x")
    assert "unknown operator 'is about'" in (ran.result.error or "")
