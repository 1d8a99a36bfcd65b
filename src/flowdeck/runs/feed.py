"""The runs feed: one live stream per tenant saying which of its runs changed, and how.

The runs list follows it instead of re-reading its page: every state change of a run, and
every step that starts or ends, is announced with the run's owner, so a reader keeps only
the changes of the runs its scope may read. The feed has no history: a reader that
(re)connects reads the list once, then applies the changes from there.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from flowdeck.db.base import utcnow
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.run_records import RunRepository

# Changes a slow reader may fall behind by before the oldest are dropped (it re-reads).
BACKLOG = 1000
LOST: dict[str, Any] = {"lost": True}
READY: dict[str, Any] = {"ready": True}


def change(
    run_id: str,
    *,
    user_id: int | None,
    flow_id: str | None,
    state: str | None = None,
    progress: float | None = None,
    step: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A feed entry: the run's new state and progress, and the step that changed if any."""
    entry: dict[str, Any] = {"run_id": run_id, "user_id": user_id, "flow_id": flow_id}
    if state is not None:
        entry["state"] = state
    if progress is not None:
        entry["progress"] = progress
    if step is not None:
        entry["step"] = step
    entry["timestamp"] = utcnow().isoformat()
    return entry


def visible_to(scope: Scope) -> Callable[[dict[str, Any]], bool]:
    """Whether a change is of a run `scope` may read (the run repository's own rule)."""
    if not RunRepository.owner_scoped(scope):
        return lambda _entry: True
    return lambda entry: entry.get("user_id") == scope.user_id


class Fanout:
    """This process's readers of each tenant's feed, each with its own bounded queue."""

    def __init__(self) -> None:
        self._readers: dict[str, set[asyncio.Queue[dict[str, Any]]]] = {}

    def has_readers(self, tenant_id: str) -> bool:
        return bool(self._readers.get(tenant_id))

    def deliver(self, tenant_id: str, entry: dict[str, Any]) -> None:
        for queue in self._readers.get(tenant_id, ()):
            if queue.full():
                # Tell the reader it missed changes (it re-reads), rather than block.
                while not queue.empty():
                    queue.get_nowait()
                queue.put_nowait(LOST)
            else:
                queue.put_nowait(entry)

    def join(self, tenant_id: str) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(BACKLOG)
        self._readers.setdefault(tenant_id, set()).add(queue)
        return queue

    def leave(self, tenant_id: str, queue: asyncio.Queue[dict[str, Any]]) -> bool:
        """Drop a reader; True when it was the tenant's last one in this process."""
        readers = self._readers.get(tenant_id)
        if readers is None:
            return False
        readers.discard(queue)
        if readers:
            return False
        del self._readers[tenant_id]
        return True


class Subscription:
    """One reader of a tenant's feed, subscribed from the moment it exists until `close`."""

    def __init__(
        self, queue: asyncio.Queue[dict[str, Any]], on_close: Callable[[], Awaitable[None]]
    ) -> None:
        self._queue = queue
        self._on_close = on_close

    async def next(self, seconds: float) -> dict[str, Any] | None:
        """The next change, or None after `seconds` without one."""
        with contextlib.suppress(TimeoutError):
            return await asyncio.wait_for(self._queue.get(), seconds)
        return None

    async def close(self) -> None:
        await self._on_close()


async def follow(
    subscription: Subscription, scope: Scope, keepalive: float
) -> AsyncIterator[dict[str, Any] | None]:
    """The changes `scope` may read, and None after every `keepalive` seconds of quiet.

    The first item is READY: from then on no change is missed, so a reader that reads the
    list when it sees it has the list and every change since.
    """
    shown = visible_to(scope)
    try:
        yield READY
        while True:
            entry = await subscription.next(keepalive)
            if entry is None or entry is LOST or shown(entry):
                yield entry
    finally:
        await subscription.close()
