"""The server benchmarks still run: each module in quick mode, against a real server.

They run side by side (each mostly waits on its servers starting), so the file stays well
under a minute. Speed is not checked here: only that each script exits 0 and prints its
figures, its reference and the quick-mode note.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 110

BENCHES = {
    "bench.server_sync": ("server sync runs over HTTP", "bare", "throughput"),
    "bench.server_background": ("server background runs", "bare 202 endpoint", "runs/s"),
    "bench.server_io": ("server I/O concurrency", "bare endpoint sleeping", "all terminal"),
    "bench.server_sse": ("token latency over SSE", "model -> client (reference)", "p50 ms"),
    "bench.server_footprint": ("server footprint", "idle RSS (MB)", "RSS after"),
    "bench.console": ("web console in Chromium", "the API call alone (reference)", "p95"),
    "bench.mcp": ("MCP tool calls over streamable HTTP", "bare", "calls/s"),
}


@pytest.fixture(scope="module")
def outputs() -> dict[str, subprocess.CompletedProcess[str]]:
    """Every benchmark in quick mode, started together, with its exit code and output."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
    env["FLOWDECK_BENCH_QUICK"] = "1"
    procs = {
        module: subprocess.Popen(
            [sys.executable, "-m", module],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for module in BENCHES
    }
    done = {}
    try:
        for module, proc in procs.items():
            out, err = proc.communicate(timeout=TIMEOUT)
            done[module] = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
    finally:
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    return done


@pytest.mark.parametrize("module", list(BENCHES))
def test_each_server_benchmark_runs(
    outputs: dict[str, subprocess.CompletedProcess[str]], module: str
) -> None:
    proc = outputs[module]
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for needle in BENCHES[module]:
        assert needle in proc.stdout, proc.stdout
    assert "quick mode" in proc.stdout
    assert "Traceback" not in proc.stderr, proc.stderr
