"""`python -m bench` (`make bench`): every benchmark, then one line per target."""

from __future__ import annotations

import sys
import time

from bench import access_check, cli_cold_start, engine_overhead, run_memory
from bench._util import quick_mode

BENCHMARKS = (engine_overhead, cli_cold_start, run_memory, access_check)


def main(quick: bool | None = None) -> int:
    quick = quick_mode(quick)
    started = time.perf_counter()
    failed = [b.__name__ for b in BENCHMARKS if not b.main(quick)]
    elapsed = time.perf_counter() - started
    if quick:
        print(f"\nquick mode: every benchmark ran ({elapsed:.0f} s), no target was checked")
        return 0
    print(
        f"\n{len(BENCHMARKS) - len(failed)}/{len(BENCHMARKS)} benchmarks met their targets "
        f"in {elapsed:.0f} s" + (f"; missed: {', '.join(failed)}" if failed else "")
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
