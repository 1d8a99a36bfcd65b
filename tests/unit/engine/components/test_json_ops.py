from __future__ import annotations

from typing import Any

import pytest

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.components.json_ops import parse_path
from flowdeck.engine.results import RunStatus

from ._support import flow, run

DOC = '{"user": {"name": "Ada", "tags": ["x", "y"]}, "items": [{"id": 1}, {"id": 2}], "odd key": 5}'


async def test_parse_json_text_from_the_chat_input(engine: Engine) -> None:
    doc = flow([("in", "ChatInput", {}), ("j", "ParseJSON", {})], [("in.message", "j.input_value")])
    ran = await run(engine, doc, RunRequest(input_value='{"a": [1, 2, {"b": null}]}'))
    assert ran.out("j", "data") == {"a": [1, 2, {"b": None}]}


async def test_parse_json_accepts_a_fenced_block(engine: Engine) -> None:
    fenced = 'Here you go:\n```json\n{"ok": true}\n```'
    # Only a reply that is just a fence is unwrapped; the prose above makes it invalid.
    ran = await run(engine, flow([("j", "ParseJSON", {"input_value": fenced})]))
    assert ran.result.status is RunStatus.FAILED
    ran = await run(engine, flow([("j", "ParseJSON", {"input_value": fenced.split(":\n", 1)[1]})]))
    assert ran.out("j", "data") == {"ok": True}


async def test_parse_json_invalid_text_is_a_component_error(engine: Engine) -> None:
    ran = await run(engine, flow([("j", "ParseJSON", {"input_value": "{not json"})]))
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "j"
    assert "input is not valid JSON" in (ran.result.error or "")


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("user.name", "Ada"),
        ("user.tags[1]", "y"),
        ("user.tags[-1]", "y"),
        (".user.tags[0]", "x"),
        ("$.items[*].id", [1, 2]),
        ("items[].id", [1, 2]),
        ("items.1.id", 2),
        ('["odd key"]', 5),
        ("user.missing", None),
        ("items[9]", None),
        ("", None),  # checked separately: the whole document
    ],
)
async def test_json_query_paths(engine: Engine, path: str, expected: Any) -> None:
    doc = flow(
        [("j", "ParseJSON", {"input_value": DOC}), ("q", "JSONQuery", {"query": path})],
        [("j.data", "q.input_value")],
    )
    ran = await run(engine, doc)
    result = ran.out("q", "result")
    if path == "":
        assert result["user"]["name"] == "Ada"
    else:
        assert result == expected


async def test_json_query_reads_json_text_directly_and_feeds_text(engine: Engine) -> None:
    doc = flow(
        [("q", "JSONQuery", {"input_value": DOC, "query": "user.name"}), ("out", "TextOutput", {})],
        [("q.result", "out.input_value")],
    )
    ran = await run(engine, doc)
    assert ran.text("out") == "Ada"


async def test_langflow_parse_json_data_alias_gives_filtered_data(engine: Engine) -> None:
    doc = flow([("q", "ParseJSONData", {"input_value": DOC, "query": ".items[]"})])
    ran = await run(engine, doc)
    assert ran.graph.vertices["q"].type_name == "JSONQuery"
    assert ran.out("q", "filtered_data") == [{"id": 1}, {"id": 2}]
    ran = await run(
        engine, flow([("q", "ParseJSONData", {"input_value": DOC, "query": ".user.tags[]"})])
    )
    assert ran.out("q", "filtered_data") == [{"text": "x"}, {"text": "y"}]


async def test_json_query_type_mismatch_is_a_component_error(engine: Engine) -> None:
    doc = flow([("q", "JSONQuery", {"input_value": DOC, "query": "user.name.first"})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "q"
    assert "cannot read key 'first' of str" in (ran.result.error or "")


def test_invalid_path_is_rejected() -> None:
    with pytest.raises(ValueError, match=r"invalid path 'a \| b'"):
        parse_path("a | b")
