from __future__ import annotations

from typing import Any

import pytest

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus, VertexState

from ._support import flow, run


async def test_combine_text_from_two_inputs(engine: Engine) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("t", "TextInput", {"input_value": "world"}),
            ("c", "CombineText", {"delimiter": ", "}),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "c.text1"), ("t.text", "c.text2"), ("c.combined_text", "out.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="hello"))
    assert ran.text("c", "combined_text") == "hello, world"
    assert ran.text("out") == "hello, world"


async def test_combine_text_default_delimiter_is_a_space(engine: Engine) -> None:
    ran = await run(engine, flow([("c", "CombineText", {"text1": "a", "text2": "b"})]))
    assert ran.text("c") == "a b"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"search": "cat", "replacement": "dog"}, "dog and Cat and dog"),
        ({"search": "cat", "replacement": "dog", "case_sensitive": False}, "dog and dog and dog"),
        ({"search": r"c(a)t", "replacement": r"[\1]", "use_regex": True}, "[a] and Cat and [a]"),
        ({"search": "$1", "replacement": "x"}, "cat and Cat and cat"),
    ],
)
async def test_replace_text(engine: Engine, params: dict[str, Any], expected: str) -> None:
    doc = flow([("r", "ReplaceText", {"input_text": "cat and Cat and cat", **params})])
    ran = await run(engine, doc)
    assert ran.text("r", "text") == expected


async def test_replace_text_invalid_regex_is_a_component_error(engine: Engine) -> None:
    doc = flow([("r", "ReplaceText", {"input_text": "x", "search": "(", "use_regex": True})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "r"
    assert "invalid regular expression '('" in (ran.result.error or "")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"operation": "upper"}, "  HELLO   WORLD  "),
        ({"operation": "lower"}, "  hello   world  "),
        (
            {"operation": [{"name": "Case Conversion"}], "case_type": "uppercase"},
            "  HELLO   WORLD  ",
        ),
        ({"operation": "Case Conversion", "case_type": "title"}, "  Hello   World  "),
        (
            {"operation": "Text Replace", "search_pattern": "World", "replacement_text": "There"},
            "  Hello   There  ",
        ),
        (
            {
                "operation": "replace",
                "search_pattern": r"\s+",
                "replacement_text": "_",
                "use_regex": True,
            },
            "_Hello_World_",
        ),
        ({"operation": "Text Strip"}, "Hello   World"),
        ({"operation": "Text Strip", "strip_mode": "left"}, "Hello   World  "),
        ({"operation": "Text Head", "head_characters": 7}, "  Hello"),
        ({"operation": "Text Tail", "tail_characters": 4}, "ld  "),
        ({"operation": "Text Clean"}, " Hello World "),
    ],
)
async def test_text_operations(engine: Engine, params: dict[str, Any], expected: str) -> None:
    doc = flow([("t", "TextOperations", {"text_input": "  Hello   World  ", **params})])
    ran = await run(engine, doc)
    assert ran.text("t", "message") == expected


async def test_text_join_gives_message_and_text_outputs(engine: Engine) -> None:
    doc = flow(
        [
            (
                "t",
                "TextOperations",
                {"text_input": "a", "operation": "Text Join", "text_input_2": "b"},
            )
        ]
    )
    ran = await run(engine, doc)
    assert ran.text("t", "message") == "a\nb"
    assert ran.text("t", "text") == "a\nb"


async def test_word_count_gives_data_and_leaves_message_inactive(engine: Engine) -> None:
    doc = flow(
        [
            ("t", "TextOperations", {"text_input": "one two two\n\nthree", "operation": "count"}),
            ("msg", "TextOutput", {}),
            ("data", "ChatOutput", {}),
        ],
        [("t.message", "msg.input_value"), ("t.data", "data.input_value")],
    )
    ran = await run(engine, doc)
    counts = ran.out("t", "data")
    assert counts["word_count"] == 4
    assert counts["unique_words"] == 3
    assert counts["line_count"] == 3
    assert counts["non_empty_lines"] == 2
    assert ran.state("msg") is VertexState.INACTIVE
    assert ran.state("data") is VertexState.COMPLETED
    assert ran.end_vertex("t")["inactivated_vertices"] == ["msg"]


async def test_text_extract(engine: Engine) -> None:
    doc = flow(
        [
            (
                "t",
                "TextOperations",
                {
                    "text_input": "a1 b22 c333",
                    "operation": "Text Extract",
                    "extract_pattern": r"\d+",
                    "max_matches": 2,
                },
            )
        ]
    )
    ran = await run(engine, doc)
    assert ran.text("t", "message") == "1\n22"
    assert ran.out("t", "data") == {"matches": ["1", "22"]}


async def test_text_operations_unknown_operation_names_the_choices(engine: Engine) -> None:
    doc = flow([("t", "TextOperations", {"text_input": "x", "operation": "reverse"})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "t"
    assert "unknown operation 'reverse'" in (ran.result.error or "")
    assert "Case Conversion" in (ran.result.error or "")
