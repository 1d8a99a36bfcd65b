"""Memory over 1,000 runs of a two-node flow in one process: no growth per run.

Each run compiles examples/hello.json's graph and runs it with a sink that encodes every
event, as a server would. Resident memory is read after the first 100 runs and after all
1,000, each time after a full collection; the figure is the growth between the two.
Target (issue 2): the growth is at most 5 MB.
"""

from __future__ import annotations

import asyncio
import gc
import os
import resource
import sys
from pathlib import Path
from typing import Any

from bench._util import header, quick_mode, verdict
from flowdeck.engine import Engine, RunRequest, load_flow_file
from flowdeck.engine.events import encode_event

TARGET_GROWTH_MB = 5.0
FLOW = Path(__file__).resolve().parent.parent / "examples" / "hello.json"
MB = 1024 * 1024


def rss_bytes() -> int:
    """Resident memory now (Linux /proc), else the peak that getrusage reports."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


class EncodingSink:
    """Serialises every event and keeps nothing, like a sink feeding a network stream."""

    def __init__(self) -> None:
        self.bytes = 0

    def emit(self, event: str, data: dict[str, Any]) -> None:
        self.bytes += len(encode_event(event, data))


async def _runs(engine: Engine, count: int, start: int) -> None:
    spec = load_flow_file(FLOW)
    for i in range(start, start + count):
        graph = engine.compile(spec)
        result = await engine.run(
            graph,
            RunRequest(input_value=f"message {i}", session_id=f"s{i}"),
            sink=EncodingSink(),
        )
        assert result.ok, result.error


def measure(first: int, total: int) -> tuple[int, int]:
    """RSS after `first` runs and after `total`, each after a full collection."""

    async def go() -> tuple[int, int]:
        engine = Engine()
        await _runs(engine, first, 0)
        gc.collect()
        after_first = rss_bytes()
        await _runs(engine, total - first, first)
        gc.collect()
        await engine.aclose()
        return after_first, rss_bytes()

    return asyncio.run(go())


def main(quick: bool | None = None) -> bool:
    """Print the figures; True when growth is within the target."""
    quick = quick_mode(quick)
    first, total = (10, 50) if quick else (100, 1000)
    header(f"memory over {total} runs of a two-node flow")
    before, after = measure(first, total)
    growth = (after - before) / MB
    print(f"  RSS after {first:>5} runs: {before / MB:8.1f} MB")
    print(
        f"  RSS after {total:>5} runs: {after / MB:8.1f} MB  "
        f"({after / before:.3f}x the first figure)"
    )
    if quick:
        print("  (quick mode: too few runs for the target)")
        return True
    return verdict(
        "growth", growth <= TARGET_GROWTH_MB, f"{growth:+.2f} MB (target ≤ {TARGET_GROWTH_MB:g} MB)"
    )


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
