"""`flowdeck run`: run a flow file once and print what it produced."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from flowdeck.cli import EXIT_USAGE
from flowdeck.commands.common import (
    CliError,
    compile_flow,
    fail,
    load_flow,
    make_engine,
    parse_tweaks,
)
from flowdeck.engine.plan import RunRequest

if TYPE_CHECKING:
    from flowdeck.commands.progress import StreamDisplay
    from flowdeck.engine.core import Engine
    from flowdeck.engine.events import EventSink
    from flowdeck.engine.graph import Graph
    from flowdeck.engine.results import RunResult


def run_command(
    *,
    flow: str,
    input_value: str | None = None,
    input_type: str | None = None,
    tweaks: Sequence[str] = (),
    output_format: str | None = None,
    stream: bool = False,
    session_id: str | None = None,
    timeout: float | None = None,
) -> int:
    """Load, compile and run a flow; print its output; 0 when the run completed."""
    tweak_map = parse_tweaks(list(tweaks))
    if timeout is not None and timeout <= 0:
        raise CliError("--timeout must be a positive number of seconds", code=EXIT_USAGE)
    if input_value == "-":
        input_value = sys.stdin.read()
    spec = load_flow(flow)
    engine = make_engine(spec, timeout)
    graph = compile_flow(engine, spec, tweak_map)
    request = RunRequest(
        input_value=input_value,
        input_type=input_type or _default_input_type(graph),
        session_id=session_id,
    )
    display: StreamDisplay | None = None
    if stream:
        from flowdeck.commands.progress import StreamDisplay

        display = StreamDisplay(
            {vid: f"{v.display_name} ({vid})" for vid, v in graph.vertices.items()},
            tokens=sys.stderr if output_format == "json" else sys.stdout,
        )
    result = asyncio.run(_execute(engine, graph, request, display))
    if display is not None:
        display.finish(result)
    if output_format == "json":
        _print_json(result, graph, input_value)
    else:
        streamed = display.streamed if display is not None else set()
        for vertex in result.select(graph, output_type="any"):
            text = vertex.text()
            if text not in streamed:
                sys.stdout.write(text + "\n")
    if not result.ok:
        return fail(f"run {result.status.value}: {result.error}")
    return 0


async def _execute(
    engine: Engine, graph: Graph, request: RunRequest, sink: EventSink | None
) -> RunResult:
    try:
        return await engine.run(graph, request, sink=sink)
    finally:
        await engine.aclose()


def _default_input_type(graph: Graph) -> str:
    """Chat when the flow has a chat input (Langflow's default), else text."""
    kinds = {v.component.input_kind for v in graph.vertices.values()}
    return "text" if "text" in kinds and "chat" not in kinds else "chat"


def _print_json(result: RunResult, graph: Graph, input_value: str | None) -> None:
    import orjson

    inputs: dict[str, Any] = {} if input_value is None else {"input_value": input_value}
    response = result.run_response(graph, inputs, output_type="any")
    sys.stdout.write(orjson.dumps(response, option=orjson.OPT_INDENT_2, default=str).decode())
    sys.stdout.write("\n")
