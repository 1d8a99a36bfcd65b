"""The embedded run queue: a pool of in-process workers with a concurrency limit."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from flowdeck.workers.runner import RunJob, RunWorker

log = logging.getLogger("flowdeck.worker")


class LocalRunQueue:
    """Runs beyond `concurrency` wait in FIFO order; none blocks another while it awaits I/O."""

    def __init__(self, worker: RunWorker, concurrency: int) -> None:
        self.worker = worker
        self.concurrency = concurrency
        self._queue: asyncio.Queue[RunJob] = asyncio.Queue()
        self._consumers: list[asyncio.Task[None]] = []
        self._busy = 0
        self._reserved = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    @property
    def busy(self) -> int:
        return self._busy

    @property
    def alive(self) -> bool:
        return bool(self._consumers) and not any(t.done() for t in self._consumers)

    async def start(self) -> None:
        self._consumers = [
            asyncio.create_task(self._consume(), name=f"flowdeck-worker-{i}")
            for i in range(self.concurrency)
        ]

    async def enqueue(self, job: RunJob) -> None:
        self._queue.put_nowait(job)

    def reserve(self) -> bool:
        if self._busy + self._reserved + self._queue.qsize() >= self.concurrency:
            return False
        self._reserved += 1
        return True

    def release(self) -> None:
        self._reserved -= 1

    def _all_parked(self) -> bool:
        controls = self.worker.controls.values()
        return bool(controls) and all(c.paused or c.waiting_on for c in controls)

    async def control(self, run_id: str, command: str, payload: Any = None) -> None:
        self.worker.apply(run_id, command, payload)

    async def _consume(self) -> None:
        while True:
            job = await self._queue.get()
            if job.claimed:
                self._reserved -= 1
            self._busy += 1
            self._idle.clear()
            try:
                await self.worker.execute(job)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("run %s crashed its worker", job.run.id)
            finally:
                self._busy -= 1
                if not self._busy:
                    self._idle.set()
                self._queue.task_done()

    async def stop(self, grace: float = 10.0) -> None:
        """Let runs in flight finish for up to `grace` seconds, then stop the workers.

        Runs parked on a person (paused, or waiting for an answer) are not waited for: they
        could not finish within any grace, and are recovered at the next start like the rest.
        """
        deadline = asyncio.get_running_loop().time() + grace
        while self._busy and not self._all_parked():
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                log.warning("%d run(s) still running at shutdown", self._busy)
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), min(left, 0.05))
        for task in self._consumers:
            task.cancel()
        await asyncio.gather(*self._consumers, return_exceptions=True)
        self._consumers = []
        # Queued runs stay queued in the store; interrupted ones are recovered at next start.
        for run_id in list(self.worker.controls):
            log.warning("run %s interrupted by shutdown; recovered at next start", run_id)
