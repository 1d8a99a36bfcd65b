"""Garbage collection around start-up: off while the process builds itself, then frozen.

Start-up makes several hundred thousand objects (modules, models, routes, schemas) that live
as long as the process. Collecting among them while they are being made is wasted work, and
traversing them in every later full collection is too. `flowdeck serve` and `flowdeck worker`
call `hold` first; their start-up ends with `settle`.
"""

from __future__ import annotations

import gc


def hold() -> None:
    """No collection until `settle`: called before the start-up imports."""
    gc.disable()


def settle() -> None:
    """Freeze what start-up built and collect from now on; a no-op unless `hold` ran."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def release() -> None:
    """Collect again without freezing (a process that will not serve after all)."""
    gc.enable()
