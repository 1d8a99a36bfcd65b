"""What a running component sees (VertexContext) and what a host holds (RunControl)."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flowdeck.engine.events import ADD_MESSAGE, LOG, TOKEN, WAITING
from flowdeck.engine.types import Message, now_iso
from flowdeck.errors import InvalidInputError, InvalidStateError

if TYPE_CHECKING:
    import httpx

    from flowdeck.engine.executor import Executor
    from flowdeck.engine.netpolicy import NetworkPolicy
    from flowdeck.engine.registries import Registries
    from flowdeck.engine.results import RunResult


class RunControl:
    """Pause, resume, cancel and answer one run while it executes.

    Pausing takes effect at the next step boundary; cancelling interrupts the running
    components at once. Answers resolve a step waiting for input or approval.
    """

    def __init__(self) -> None:
        self._running = asyncio.Event()
        self._running.set()
        self._task: asyncio.Task[Any] | None = None
        self._waiting: dict[str, asyncio.Future[Any]] = {}
        self._early: dict[str, Any] = {}
        self.cancel_reason: str | None = None

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    @property
    def waiting_on(self) -> list[str]:
        """Vertex ids of steps waiting for an answer."""
        return list(self._waiting)

    def bind(self, task: asyncio.Task[Any]) -> None:
        self._task = task
        if self.cancel_reason is not None:
            task.cancel(self.cancel_reason)

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    def cancel(self, reason: str = "Cancelled by user") -> None:
        if self.cancel_reason is None:
            self.cancel_reason = reason
        self._running.set()
        if self._task is not None and not self._task.done():
            self._task.cancel(reason)

    def answer(self, value: Any, vertex_id: str | None = None) -> str:
        """Resolve a waiting step; with no id, the only one waiting. Returns the vertex id."""
        if vertex_id is None:
            if len(self._waiting) != 1:
                raise InvalidStateError(
                    "name the step to answer" if self._waiting else "no step is waiting",
                    field="vertex_id",
                )
            vertex_id = next(iter(self._waiting))
        future = self._waiting.get(vertex_id)
        if future is None:
            # An answer may arrive just before the step starts waiting.
            self._early[vertex_id] = value
            return vertex_id
        if not future.done():
            future.set_result(value)
        return vertex_id

    async def checkpoint(self) -> None:
        """Wait here while the run is paused."""
        if not self._running.is_set():
            await self._running.wait()

    async def wait_for_answer(self, vertex_id: str) -> Any:
        if vertex_id in self._early:
            return self._early.pop(vertex_id)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._waiting[vertex_id] = future
        try:
            return await future
        finally:
            self._waiting.pop(vertex_id, None)


class VertexContext:
    """The run as one component sees it while it builds."""

    __slots__ = ("_run", "display_name", "logs", "messages", "vertex_id")

    def __init__(self, run: Executor, vertex_id: str, display_name: str) -> None:
        self._run = run
        self.vertex_id = vertex_id
        self.display_name = display_name
        # Made on first use: most steps send no message and write no log.
        self.messages: list[Message] | None = None
        self.logs: list[dict[str, Any]] | None = None

    @property
    def run_id(self) -> str:
        return self._run.run_id

    @property
    def flow_id(self) -> str | None:
        return self._run.flow_id

    @property
    def session_id(self) -> str:
        return self._run.session_id

    @property
    def allow_custom_code(self) -> bool:
        return self._run.engine.allow_custom_code

    @property
    def tenant_id(self) -> str | None:
        return self._run.request.tenant_id

    @property
    def network(self) -> NetworkPolicy:
        return self._run.engine.network

    def registries(self, what: str) -> tuple[Registries, str]:
        """The engine's registries and this run's tenant, to look `what` up in."""
        registries, tenant = self._run.engine.registries, self.tenant_id
        if registries is None or tenant is None:
            raise InvalidInputError(f"this host has no registered {what}s (runs on a server do)")
        return registries, tenant

    @property
    def http(self) -> httpx.AsyncClient:
        return self._run.engine.http_client()

    def log(self, message: str, level: str = "info") -> None:
        entry = {"timestamp": now_iso(), "level": level, "message": message, "step": self.vertex_id}
        if self.logs is None:
            self.logs = []
        self.logs.append(entry)
        self._run.sink.emit(LOG, entry)

    def emit_token(self, chunk: str, message_id: str) -> None:
        self._run.sink.emit(TOKEN, {"chunk": chunk, "id": message_id, "timestamp": now_iso()})

    def send_message(self, message: Message) -> None:
        """Record a chat message produced by this step and announce it."""
        if not message.session_id:
            message.session_id = self.session_id
        if self.messages is None:
            self.messages = []
        self.messages.append(message)
        data = message.to_dict()
        data["flow_id"] = self.flow_id
        data["component_id"] = self.vertex_id
        self._run.sink.emit(ADD_MESSAGE, data)

    async def wait_for_input(self, prompt: str, kind: str = "input") -> Any:
        """Suspend this step until the host answers it (wait-for-input or approval)."""
        self._run.sink.emit(WAITING, {"id": self.vertex_id, "prompt": prompt, "kind": kind})
        return await self._run.control.wait_for_answer(self.vertex_id)

    async def iterate(self, item: Any) -> list[Any]:
        """For loop components: run the loop body once for `item`; the values fed back."""
        return await self._run.iterate(self.vertex_id, item)

    async def run_subflow(
        self, ref: str, input_value: str | None, tweaks: Mapping[str, Any] | None = None
    ) -> RunResult:
        return await self._run.run_subflow(ref, input_value, tweaks)
