"""The run queue interface: in-process workers (embedded) or Celery (distributed)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from flowdeck.workers.runner import RunJob


class RunQueue(Protocol):
    """Takes queued runs to whoever executes them."""

    @property
    def depth(self) -> int:
        """Runs waiting in this process (0 where the broker holds them)."""

    @property
    def busy(self) -> int:
        """Runs executing in this process."""

    @property
    def alive(self) -> bool: ...

    async def start(self) -> None: ...

    async def enqueue(self, job: RunJob) -> None: ...

    def reserve(self) -> bool:
        """Hold a free slot for a run about to be created, if one is free in this process.

        Such a run is stored already RUNNING (RunWorker.claim_new), saving a write, and is
        enqueued with `claimed=True`; `release` gives the slot back if it never is.
        """

    def release(self) -> None: ...

    async def stop(self, grace: float = 10.0) -> None: ...
