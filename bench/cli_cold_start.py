"""Cold start of `flowdeck run` on a two-node flow, as a whole process.

The reference is `python -c pass` with the same interpreter, timed in the same loop (the
two alternate, so a slow spell of the machine hits both). `python -c "import asyncio"`
is shown too: the engine is asynchronous, so that import is a floor no CLI can go under.
Targets (issue 2): at most 0.3 s, and at most 8x `python -c pass`.
"""

from __future__ import annotations

import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import flowdeck
from bench._util import header, quick_mode, verdict

TARGET_SECONDS = 0.3
TARGET_RATIO = 8.0
ROOT = Path(__file__).resolve().parent.parent
FLOW = ROOT / "examples" / "hello.json"


def flowdeck_command() -> list[str]:
    """The installed console script next to this interpreter, else `python -m flowdeck`."""
    script = Path(sys.executable).with_name("flowdeck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowdeck"]


def _wall(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
    return time.perf_counter() - start


def main(quick: bool | None = None) -> bool:
    """Time the commands alternately; True when both targets are met."""
    quick = quick_mode(quick)
    repeat = 2 if quick else 11
    # An installed package has its bytecode compiled; an editable checkout run with
    # PYTHONDONTWRITEBYTECODE never gets it, and would compile flowdeck on every start.
    compileall.compile_dir(Path(flowdeck.__file__).parent, quiet=2)
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        'python -c "import asyncio"': [sys.executable, "-c", "import asyncio"],
        "flowdeck run examples/hello.json --input hi": [
            *flowdeck_command(),
            "run",
            str(FLOW),
            "--input",
            "hi",
        ],
    }
    times: dict[str, list[float]] = {name: [] for name in commands}
    for cmd in commands.values():
        _wall(cmd, env)  # warm the file cache
    for _ in range(repeat):
        for name, cmd in commands.items():
            times[name].append(_wall(cmd, env))
    header(f"CLI cold start (median of {repeat} alternating runs)")
    reference = statistics.median(times["python -c pass"])
    for name, samples in times.items():
        med = statistics.median(samples)
        print(f"  {name:45} {med * 1000:7.1f} ms  {med / reference:5.2f}x python -c pass")
    run = statistics.median(times["flowdeck run examples/hello.json --input hi"])
    if quick:
        print("  (quick mode: too few runs for the targets)")
        return True
    ok = verdict(
        "wall time",
        run <= TARGET_SECONDS,
        f"{run * 1000:.0f} ms (target ≤ {TARGET_SECONDS * 1000:.0f} ms)",
    )
    ratio = run / reference
    ok &= verdict(
        "against python -c pass",
        ratio <= TARGET_RATIO,
        f"{ratio:.2f}x (target ≤ {TARGET_RATIO:g}x)",
    )
    return ok


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
