"""Engine overhead per vertex: chains and wide DAGs of 10 to 10,000 no-op vertices.

The reference is awaiting the same no-op component body directly, once per vertex, in a
plain loop: the report reads "x times a bare coroutine call".
The engine runs with the collector as flowdeck's processes set it (`flowdeck.heap`).
Targets (issue 2): at most 50 µs per vertex at 1,000 vertices, and the 10,000 graph
costing at most 12x the 1,000 one.
"""

from __future__ import annotations

import asyncio
import gc
import statistics
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

from bench._util import header, quick_mode, verdict
from flowdeck import heap
from flowdeck.engine import Engine, VertexContext
from flowdeck.engine.components.base import Component, Input, Output
from flowdeck.engine.components.registry import ComponentRegistry
from flowdeck.engine.types import DataType

TARGET_US_PER_VERTEX = 50.0
TARGET_GROWTH = 12.0
SIZES = (10, 100, 1000, 10_000)
QUICK_SIZES = (10, 100)
ROUNDS = 5
# Vertex executions per measurement: small graphs repeat until they reach it.
WORK = 10_000


class NoOp(Component):
    """Does nothing: whatever it costs to run is the engine's overhead."""

    type_name = "NoOp"
    inputs = (Input("input_value", DataType.ANY),)
    outputs = (Output("out", DataType.ANY),)

    async def build(self, ctx: VertexContext, params: dict[str, Any]) -> Mapping[str, Any]:
        return {"out": None}


def chain(n: int) -> dict[str, Any]:
    nodes = [{"id": f"v{i}", "type": "NoOp"} for i in range(n)]
    edges = [{"from": f"v{i}.out", "to": f"v{i + 1}.input_value"} for i in range(n - 1)]
    return {"nodes": nodes, "edges": edges}


def wide(n: int) -> dict[str, Any]:
    """One source fanning out to n-2 vertices that all feed one sink."""
    middle = [f"m{i}" for i in range(n - 2)]
    nodes = [{"id": vid, "type": "NoOp"} for vid in ("src", *middle, "sink")]
    edges = [{"from": "src.out", "to": f"{m}.input_value"} for m in middle]
    edges += [{"from": f"{m}.out", "to": "sink.input_value"} for m in middle]
    return {"nodes": nodes, "edges": edges}


SHAPES: dict[str, Callable[[int], dict[str, Any]]] = {"chain": chain, "wide": wide}


async def _measure(
    engine: Engine, doc: dict[str, Any], n: int, work: int
) -> tuple[float, float, float]:
    """Seconds per vertex for (compile, run, bare coroutine call), over ~`work` vertices."""
    body = NoOp()
    reps = max(1, work // n)
    compile_s = run_s = 0.0
    # Start from a collected heap, so garbage left by the previous measurement is not
    # collected (and billed) during this one.
    gc.collect()
    for _ in range(reps):
        start = time.perf_counter()
        graph = engine.compile(doc)
        compile_s += time.perf_counter() - start
        start = time.perf_counter()
        result = await engine.run(graph)
        run_s += time.perf_counter() - start
        assert result.ok, result.error
        del graph, result
    start = time.perf_counter()
    for _ in range(reps * n):
        await body.build(None, {})  # type: ignore[arg-type]
    bare_s = time.perf_counter() - start
    total = reps * n
    return compile_s / total, run_s / total, bare_s / total


async def _rounds(
    engine: Engine, sizes: tuple[int, ...], rounds: int, work: int
) -> dict[tuple[str, int], list[tuple[float, float, float]]]:
    """Every shape and size once per round, so a slow spell of the machine hits them alike."""
    docs = {(name, n): shape(n) for name, shape in SHAPES.items() for n in sizes}
    samples: dict[tuple[str, int], list[tuple[float, float, float]]] = {k: [] for k in docs}
    for _ in range(rounds):
        for (name, n), doc in docs.items():
            samples[name, n].append(await _measure(engine, doc, n, work))
    return samples


def main(quick: bool | None = None) -> bool:
    """Print the table and the verdicts; True when every target is met."""
    quick = quick_mode(quick)
    sizes, rounds, work = (QUICK_SIZES, 1, 200) if quick else (SIZES, ROUNDS, WORK)
    engine = Engine(ComponentRegistry([NoOp]))
    header("engine overhead per vertex (no-op components)")
    # As flowdeck's processes run the engine (`serve`, `worker`, `run`): what was loaded
    # before frozen, the collector at heap.THRESHOLDS. Undone after, for the next benchmark.
    thresholds = gc.get_threshold()
    heap.hold()
    heap.settle()
    try:
        samples = asyncio.run(_rounds(engine, sizes, rounds, work))
    finally:
        gc.unfreeze()
        gc.set_threshold(*thresholds)
    print(
        f"  {'shape':6} {'vertices':>8} {'compile µs':>11} {'run µs':>8} {'total µs':>9}"
        f"   run = x bare coroutine call   (per vertex, median of {rounds} rounds)"
    )
    for (name, n), rows in samples.items():
        c, r, b = (statistics.median(col) for col in zip(*rows, strict=True))
        print(
            f"  {name:6} {n:8d} {c * 1e6:11.1f} {r * 1e6:8.1f} {(c + r) * 1e6:9.1f}   {r / b:5.0f}x"
        )
    if quick:
        print("  (quick mode: sizes too small for the targets)")
        return True
    ok = True
    for name in SHAPES:
        per_vertex = statistics.median(c + r for c, r, _ in samples[name, 1000]) * 1e6
        ok &= verdict(
            f"{name}, 1,000 vertices, compile + run",
            per_vertex <= TARGET_US_PER_VERTEX,
            f"{per_vertex:.1f} µs per vertex (target ≤ {TARGET_US_PER_VERTEX:g}: "
            f"{per_vertex / TARGET_US_PER_VERTEX:.2f}x of it)",
        )
        # Paired within each round: the 10,000 graph's cost over the 1,000 one's.
        growth = statistics.median(
            10 * (big[0] + big[1]) / (small[0] + small[1])
            for small, big in zip(samples[name, 1000], samples[name, 10_000], strict=True)
        )
        ok &= verdict(
            f"{name}, 10,000 vs 1,000 vertices",
            growth <= TARGET_GROWTH,
            f"{growth:.1f}x the time (target ≤ {TARGET_GROWTH:g}x; linear is 10x)",
        )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
