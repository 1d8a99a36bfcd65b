from __future__ import annotations

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus

from ._support import flow, run


async def test_regex_extractor_gives_matches_as_data_and_text(engine: Engine) -> None:
    doc = flow(
        [
            ("in", "ChatInput", {}),
            ("r", "RegexExtractorComponent", {"pattern": r"[\w.]+@(\w+)\.com"}),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "r.input_text"), ("r.text", "out.input_value")],
    )
    ran = await run(engine, doc, RunRequest(input_value="mail a.b@x.com or c@y.com, not d@z.org"))
    # The whole match, not the group, even though the pattern has one.
    assert ran.out("r", "data") == [{"match": "a.b@x.com"}, {"match": "c@y.com"}]
    assert ran.text("out") == "a.b@x.com\nc@y.com"


async def test_regex_extractor_without_matches(engine: Engine) -> None:
    doc = flow([("r", "RegexExtractorComponent", {"input_text": "abc", "pattern": r"\d+"})])
    ran = await run(engine, doc)
    assert ran.out("r", "data") == []
    assert ran.text("r", "text") == "No matches found"


async def test_regex_extractor_invalid_pattern_is_a_component_error(engine: Engine) -> None:
    doc = flow([("r", "RegexExtractorComponent", {"input_text": "abc", "pattern": "[a-"})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "r"
    assert ran.result.error is not None
    assert ran.result.error.startswith("Regex Extractor (r): invalid regular expression")


async def test_parser_renders_each_record_and_joins_them(engine: Engine) -> None:
    doc = flow(
        [
            ("j", "ParseJSON", {"input_value": '[{"name": "Ada", "age": 36}, {"name": "Bob"}]'}),
            ("p", "ParserComponent", {"pattern": "{name} ({age})", "sep": "; "}),
            ("out", "TextOutput", {}),
        ],
        [("j.data", "p.input_data"), ("p.parsed_text", "out.input_value")],
    )
    ran = await run(engine, doc)
    # A key the record lacks renders empty, as in Langflow.
    assert ran.text("out") == "Ada (36); Bob ()"


async def test_parser_default_pattern_reads_a_message(engine: Engine) -> None:
    doc = flow(
        [("in", "ChatInput", {}), ("p", "ParserComponent", {})],
        [("in.message", "p.input_data")],
    )
    ran = await run(engine, doc, RunRequest(input_value="hi"))
    assert ran.text("p") == "Text: hi"


async def test_parser_stringify_mode(engine: Engine) -> None:
    doc = flow(
        [
            (
                "p",
                "ParserComponent",
                {
                    "mode": "Stringify",
                    "clean_data": True,
                    "input_data": [{"text": "a\n\nb"}, {"k": 1}],
                },
            )
        ]
    )
    ran = await run(engine, doc)
    assert ran.text("p") == 'a\nb\n{"k":1}'


async def test_parser_bad_pattern_is_a_component_error(engine: Engine) -> None:
    doc = flow([("p", "ParserComponent", {"input_data": {"a": 1}, "pattern": "{a"})])
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert "cannot apply pattern '{a'" in (ran.result.error or "")
