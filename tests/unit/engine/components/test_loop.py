from __future__ import annotations

from typing import Any

from flowdeck.engine import Engine, RunRequest
from flowdeck.engine.results import RunStatus, VertexState

from ._support import flow, run


def _upper_loop(data: Any = None) -> dict[str, Any]:
    """loop.item -> upper -> back into loop.item; loop.done -> parser -> output."""
    loop_params = {} if data is None else {"data": data}
    return flow(
        [
            ("loop", "LoopComponent", loop_params),
            ("upper", "TextOperations", {"operation": "upper"}),
            ("p", "ParserComponent", {"pattern": "{text}", "sep": ","}),
            ("out", "TextOutput", {}),
        ],
        [
            ("loop.item", "upper.text_input"),
            ("upper.message", "loop.item"),
            ("loop.done", "p.input_data"),
            ("p.parsed_text", "out.input_value"),
        ],
    )


async def test_loop_body_runs_once_per_item_and_feeds_back(engine: Engine) -> None:
    ran = await run(engine, _upper_loop(["a", "bc", "def"]))
    assert ran.result.ok, ran.result.error
    done = ran.out("loop", "done")
    assert [m.text for m in done] == ["A", "BC", "DEF"]
    assert ran.text("out") == "A,BC,DEF"
    graph = ran.graph
    assert graph.loop_bodies == {"loop": ["upper"]}
    feedback = [e for e in graph.edges if e.feedback]
    assert [(e.source, e.target, e.target_field) for e in feedback] == [("upper", "loop", "item")]


async def test_loop_over_json_from_an_input(engine: Engine) -> None:
    doc = _upper_loop()
    doc["nodes"].insert(0, {"id": "in", "type": "TextInput", "params": {}})
    doc["edges"].append({"from": "in.text", "to": "loop.data"})
    ran = await run(engine, doc, RunRequest(input_value='["x", "y"]', input_type="text"))
    assert ran.text("out") == "X,Y"


async def test_loop_over_records_with_a_multi_step_body(engine: Engine) -> None:
    records = [{"name": "ada", "lang": "en"}, {"name": "bo", "lang": "fr"}]
    doc = flow(
        [
            ("loop", "LoopComponent", {"data": records}),
            ("fmt", "ParserComponent", {"pattern": "{name}/{lang}"}),
            ("upper", "TextOperations", {"operation": "upper"}),
            ("out", "ChatOutput", {}),
        ],
        [
            ("loop.item", "fmt.input_data"),
            ("fmt.parsed_text", "upper.text_input"),
            ("upper.message", "loop.item"),
            ("loop.done", "out.input_value"),
        ],
    )
    ran = await run(engine, doc)
    assert [m.text for m in ran.out("loop", "done")] == ["ADA/EN", "BO/FR"]
    assert ran.text("out") == "ADA/EN\nBO/FR"
    assert ran.result.vertices["loop"].logs[-1]["message"] == (
        "looped over 2 items, collected 2 results"
    )


async def test_empty_list_skips_the_body(engine: Engine) -> None:
    ran = await run(engine, _upper_loop([]))
    assert ran.result.ok
    assert ran.out("loop", "done") == []
    assert "upper" not in ran.result.vertices
    assert ran.text("out") == ""


async def test_failure_in_the_body_fails_the_run(engine: Engine) -> None:
    doc = flow(
        [
            ("loop", "LoopComponent", {"data": ["1", "x"]}),
            ("if", "ConditionalRouter", {"operator": "less than", "match_text": "5"}),
        ],
        [("loop.item", "if.input_text"), ("if.true_result", "loop.item")],
    )
    ran = await run(engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert ran.result.error_vertex == "if"
    assert "compares numbers, but the input is 'x'" in (ran.result.error or "")
    assert ran.state("if") is VertexState.FAILED
