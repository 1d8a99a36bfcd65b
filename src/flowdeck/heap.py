"""Garbage collection around start-up: off while the process builds itself, then frozen.

Start-up makes several hundred thousand objects (modules, models, routes, schemas) that live
as long as the process. Collecting among them while they are being made is wasted work, and
traversing them in every later full collection is too. `flowdeck serve`, `flowdeck worker`
and `flowdeck run` call `hold` first; their start-up ends with `settle`.

The process then collects less often than Python's default (a young-generation pass every
700 allocations): one run allocates thousands of short-lived objects that reference counting
frees anyway; at the default the collector took about a tenth of the CPU of a background
run, and a graph of 10,000 vertices cost more than ten times one of 1,000. Cyclic garbage
still goes within THRESHOLDS[0] allocations.
"""

from __future__ import annotations

import gc

# Young generation after 20,000 allocations (not 700); the older two less often too.
THRESHOLDS = (20_000, 50, 100)


def hold() -> None:
    """No collection until `settle`: called before the start-up imports."""
    gc.disable()


def settle() -> None:
    """Freeze what start-up built and collect from now on; a no-op unless `hold` ran."""
    if not gc.isenabled():
        gc.freeze()
        gc.set_threshold(*THRESHOLDS)
        gc.enable()


def release() -> None:
    """Collect again without freezing (a process that will not serve after all)."""
    gc.enable()
