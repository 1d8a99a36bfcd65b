"""Shared by the benchmarks: quick mode, timing and PASS/FAIL lines."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable


def quick_mode(quick: bool | None) -> bool:
    """Tiny sizes when asked, or when FLOWDECK_BENCH_QUICK is set."""
    if quick is not None:
        return quick
    return os.environ.get("FLOWDECK_BENCH_QUICK", "").lower() in ("1", "true", "yes", "on")


def median_time(fn: Callable[[], object], repeat: int) -> float:
    """Median wall time of `repeat` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def header(title: str) -> None:
    print(f"\n== {title}")


def verdict(label: str, ok: bool, detail: str) -> bool:
    """Print one target line and return whether it was met."""
    print(f"  [{'PASS' if ok else 'FAIL'}] {label}: {detail}")
    return ok
