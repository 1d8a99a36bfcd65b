"""Live run records: steps, progress and logs of runs in flight, written a few times a second."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from flowdeck.runs.caps import cap_fields
from flowdeck.runs.recorder import RunRecorder
from flowdeck.runs.states import RunState
from flowdeck.runs.store import Fence, RunStore

log = logging.getLogger("flowdeck.worker")

_ACTIVE = [s.value for s in RunState if s.active]


def live_fields(recorder: RunRecorder) -> dict[str, Any]:
    """What a run record shows of a run in flight: its steps, progress and logs (capped)."""
    live = {
        "steps": recorder.step_list(),
        "progress": recorder.progress,
        "logs": list(recorder.logs),
    }
    cap_fields(live, ("steps", "logs"), recorder.caps.run_bytes)
    return live


@dataclass(slots=True)
class _Tracked:
    recorder: RunRecorder
    fence: Fence
    written: int = 0


class ProgressWriter:
    """One task for all runs of a worker: a run that changed since the last pass is written.

    Short runs end before the first pass and cost nothing; long ones are seen moving by
    anyone polling the run record (the executions and flow-runs dialects do).
    """

    def __init__(self, store: RunStore, interval: float = 0.5) -> None:
        self.store = store
        self.interval = interval
        self._runs: dict[str, _Tracked] = {}
        self._task: asyncio.Task[None] | None = None

    def track(self, run_id: str, recorder: RunRecorder, fence: Fence) -> None:
        self._runs[run_id] = _Tracked(recorder, fence)
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop())

    def live(self, run_id: str, fence: Fence) -> dict[str, Any]:
        """The live fields of a run this attempt tracks, now; empty if it tracks none."""
        tracked = self._runs.get(run_id)
        if tracked is None or tracked.fence != fence:
            return {}
        return live_fields(tracked.recorder)

    def untrack(self, run_id: str, fence: Fence | None = None) -> None:
        """Stop writing a run's progress (only `fence`'s attempt's, if given)."""
        tracked = self._runs.get(run_id)
        if tracked is not None and (fence is None or tracked.fence == fence):
            del self._runs[run_id]

    async def _loop(self) -> None:
        while self._runs:
            await asyncio.sleep(self.interval)
            for run_id, tracked in list(self._runs.items()):
                recorder = tracked.recorder
                if recorder.version == tracked.written:
                    continue
                tracked.written = recorder.version
                try:
                    await self.store.update(
                        run_id,
                        live_fields(recorder),
                        from_states=_ACTIVE,
                        fence=tracked.fence,
                    )
                except Exception:
                    log.exception("could not write the progress of run %s", run_id)

    async def stop(self) -> None:
        self._runs.clear()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
