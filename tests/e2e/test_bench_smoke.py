"""The benchmarks still run: each module, and `python -m bench`, at tiny sizes (no timing)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run_bench(module: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", module],
        cwd=ROOT,
        env={**os.environ, "FLOWDECK_BENCH_QUICK": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize(
    ("module", "heading"),
    [
        ("bench.engine_overhead", "engine overhead per vertex"),
        ("bench.cli_cold_start", "CLI cold start"),
        ("bench.run_memory", "memory over"),
    ],
)
def test_each_benchmark_runs_alone(module: str, heading: str) -> None:
    proc = run_bench(module)
    assert proc.returncode == 0, proc.stderr
    assert heading in proc.stdout
    assert "quick mode" in proc.stdout


def test_python_m_bench_runs_them_all() -> None:
    proc = run_bench("bench")
    assert proc.returncode == 0, proc.stderr
    for heading in ("engine overhead", "CLI cold start", "memory over"):
        assert heading in proc.stdout
