"""`python -m bench.servers`: the server benchmarks, each against a real `flowdeck serve`.

Every benchmark runs whatever an earlier one's verdicts (printed as PASS / FAIL lines and
summed up at the end); the exit status is non-zero when a target was missed or one failed.
"""

from __future__ import annotations

import sys
import time

from bench import (
    console,
    mcp,
    server_background,
    server_footprint,
    server_io,
    server_sse,
    server_sync,
    stored_components,
)
from bench._util import quick_mode

BENCHMARKS = (
    server_sync,
    server_background,
    server_io,
    server_sse,
    server_footprint,
    console,
    mcp,
    stored_components,
)


def main(quick: bool | None = None) -> int:
    quick = quick_mode(quick)
    started = time.perf_counter()
    missed = [b.__name__ for b in BENCHMARKS if not b.main(quick)]
    elapsed = time.perf_counter() - started
    if quick:
        print(f"\nquick mode: every server benchmark ran ({elapsed:.0f} s), no target was checked")
    else:
        print(
            f"\n{len(BENCHMARKS) - len(missed)}/{len(BENCHMARKS)} server benchmarks met their "
            f"targets in {elapsed:.0f} s" + (f"; missed: {', '.join(missed)}" if missed else "")
        )
    return 1 if missed and not quick else 0


if __name__ == "__main__":
    sys.exit(main())
