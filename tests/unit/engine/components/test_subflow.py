from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from flowdeck.engine import Engine, RunRequest, load_flow_file
from flowdeck.engine.resolvers import ChainFlowResolver, FileFlowResolver, MappingFlowResolver
from flowdeck.engine.results import RunStatus, VertexState

from ._support import flow, run

CHILD = flow(
    [
        ("in", "ChatInput", {}),
        ("up", "TextOperations", {"operation": "upper"}),
        ("out", "ChatOutput", {}),
    ],
    [("in.message", "up.text_input"), ("up.message", "out.input_value")],
)


def _parent(ref: str, **params: Any) -> dict[str, Any]:
    return flow(
        [
            ("in", "ChatInput", {}),
            ("sub", "SubFlow", {"flow": ref, **params}),
            ("out", "ChatOutput", {}),
        ],
        [("in.message", "sub.input_value"), ("sub.message", "out.input_value")],
    )


def _write(path: Path, doc: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(orjson.dumps(doc))
    return path


@pytest.fixture
async def file_engine() -> AsyncIterator[Engine]:
    eng = Engine(flow_resolver=FileFlowResolver())
    yield eng
    await eng.aclose()


async def test_subflow_file_resolves_next_to_the_parent_file(
    file_engine: Engine, tmp_path: Path
) -> None:
    _write(tmp_path / "flows" / "child.json", CHILD)
    parent_file = _write(tmp_path / "flows" / "parent.json", _parent("child.json"))
    spec = load_flow_file(parent_file)
    graph = file_engine.compile(spec)
    assert graph.source == parent_file
    result = await file_engine.run(graph, RunRequest(input_value="shout this"))
    assert result.ok, result.error
    assert result.vertices["sub"].outputs["message"].text == "SHOUT THIS"
    assert result.vertices["out"].outputs["message"].text == "SHOUT THIS"
    data = result.vertices["sub"].outputs["data"]
    assert data["status"] == "completed"
    assert data["text"] == "SHOUT THIS"
    assert data["outputs"]["up"]["results"]["message"]["text"] == "SHOUT THIS"
    assert set(data["outputs"]) == {"in", "up", "out"}


async def test_relative_path_into_another_directory(file_engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path / "lib" / "child.json", CHILD)
    parent_file = _write(tmp_path / "app" / "parent.json", _parent("../lib/child.json"))
    result = await file_engine.run(
        file_engine.compile(load_flow_file(parent_file)), RunRequest(input_value="a")
    )
    assert result.vertices["sub"].outputs["message"].text == "A"


async def test_in_memory_parent_resolves_against_base_dir(tmp_path: Path) -> None:
    _write(tmp_path / "child.json", CHILD)
    engine = Engine(flow_resolver=FileFlowResolver(tmp_path))
    try:
        ran = await run(engine, _parent("child.json"), RunRequest(input_value="b"))
    finally:
        await engine.aclose()
    assert ran.text("sub", "message") == "B"


async def test_tweaks_reach_the_subflow(file_engine: Engine, tmp_path: Path) -> None:
    child = _write(tmp_path / "child.json", CHILD)
    doc = _parent(str(child), tweaks={"up": {"operation": "lower"}})
    ran = await run(file_engine, doc, RunRequest(input_value="MiXeD"))
    assert ran.text("out") == "mixed"


async def test_missing_file_is_a_component_error(file_engine: Engine, tmp_path: Path) -> None:
    parent_file = _write(tmp_path / "parent.json", _parent("nope.json"))
    result = await file_engine.run(
        file_engine.compile(load_flow_file(parent_file)), RunRequest(input_value="x")
    )
    assert result.status is RunStatus.FAILED
    assert result.error_vertex == "sub"
    assert (result.error or "").startswith("Sub Flow (sub): sub-flow 'nope.json': no flow file")
    assert result.vertices["out"].state is VertexState.INACTIVE


async def test_failing_subflow_is_a_component_error_naming_it(
    file_engine: Engine, tmp_path: Path
) -> None:
    failing = flow(
        [("in", "ChatInput", {}), ("bad", "Delay", {"seconds": -2})],
        [("in.message", "bad.input_value")],
    )
    _write(tmp_path / "bad.json", failing)
    parent_file = _write(tmp_path / "parent.json", _parent("bad.json"))
    result = await file_engine.run(
        file_engine.compile(load_flow_file(parent_file)), RunRequest(input_value="x")
    )
    assert result.status is RunStatus.FAILED
    assert result.error_vertex == "sub"
    error = result.error or ""
    assert "sub-flow 'bad.json' failed" in error
    assert "Delay (bad): seconds must not be negative" in error


async def test_invalid_subflow_is_a_component_error(file_engine: Engine, tmp_path: Path) -> None:
    _write(tmp_path / "broken.json", flow([("x", "NoSuchComponent", {})]))
    parent_file = _write(tmp_path / "parent.json", _parent("broken.json"))
    result = await file_engine.run(file_engine.compile(load_flow_file(parent_file)))
    assert "sub-flow 'broken.json'" in (result.error or "")
    assert "unknown component type 'NoSuchComponent'" in (result.error or "")


async def test_a_flow_calling_itself_stops_at_the_depth_limit(
    file_engine: Engine, tmp_path: Path
) -> None:
    self_file = _write(tmp_path / "loop.json", _parent("loop.json"))
    result = await file_engine.run(
        file_engine.compile(load_flow_file(self_file)), RunRequest(input_value="x")
    )
    assert result.status is RunStatus.FAILED
    assert "nest deeper than 8 levels" in (result.error or "")


async def test_root_keeps_flows_inside_it(tmp_path: Path) -> None:
    _write(tmp_path / "outside" / "child.json", CHILD)
    root = tmp_path / "root"
    parent_file = _write(root / "parent.json", _parent("../outside/child.json"))
    engine = Engine(flow_resolver=FileFlowResolver(root=root))
    try:
        result = await engine.run(engine.compile(load_flow_file(parent_file)))
    finally:
        await engine.aclose()
    assert result.status is RunStatus.FAILED
    assert "is outside" in (result.error or "")


async def test_no_resolver_is_a_component_error(engine: Engine) -> None:
    ran = await run(engine, _parent("child.json"), RunRequest(input_value="x"))
    assert ran.result.error_vertex == "sub"
    assert "cannot load sub-flows" in (ran.result.error or "")


async def test_mapping_and_chain_resolvers(tmp_path: Path) -> None:
    _write(tmp_path / "child.json", CHILD)
    lower = flow(
        [("in", "TextInput", {}), ("lo", "TextOperations", {"operation": "lower"})],
        [("in.text", "lo.text_input")],
    )
    resolver = ChainFlowResolver(
        [MappingFlowResolver({"lower-flow": lower}), FileFlowResolver(tmp_path)]
    )
    engine = Engine(flow_resolver=resolver)
    try:
        by_name = await run(engine, _parent("lower-flow"), RunRequest(input_value="ABC"))
        by_file = await run(engine, _parent("child.json"), RunRequest(input_value="abc"))
        missing = await run(engine, _parent("ghost"), RunRequest(input_value="abc"))
    finally:
        await engine.aclose()
    # With no chat/text output in the sub-flow, its last step gives the answer.
    assert by_name.text("out") == "abc"
    assert by_file.text("out") == "ABC"
    assert "no flow named 'ghost'" in (missing.result.error or "")
    assert "no flow file 'ghost'" in (missing.result.error or "")
