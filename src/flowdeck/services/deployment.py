"""Flow deployment (the control dialect): configurations, status, and start/stop/pause/resume.

A flow's deployment status decides what happens to its triggers and runs:
running accepts new runs; paused takes triggers but holds their runs (queued) and halts running
runs at the next step boundary; stopped refuses new runs (a soft stop lets running runs finish,
a hard stop cancels them).
"""

from __future__ import annotations

import logging
from typing import Any

from pydantic import BaseModel, ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import Flow, Run
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.deployment import DeploymentFlowRepository, FlowRunRepository
from flowdeck.db.repositories.flows import FlowQuery
from flowdeck.errors import FlowValidationError, InvalidInputError, InvalidStateError, NotFoundError
from flowdeck.runs.states import RunState
from flowdeck.schemas.control import (
    COMMAND_MESSAGES,
    HARD_STOP,
    SOFT_STOP,
    Command,
    CommandResult,
    FlowCommand,
    FlowCommandDetail,
    FlowStatus,
    RunCounts,
    configuration,
    split_extras,
)
from flowdeck.schemas.flows import FlowCreate, FlowUpdate
from flowdeck.services.container import Services
from flowdeck.services.execution import HELD, PAUSED, RUNNING, STOPPED
from flowdeck.services.flows import FlowService
from flowdeck.workers.runner import RunJob

log = logging.getLogger("flowdeck.deployment")

TARGET = {
    Command.START: RUNNING,
    Command.RESUME: RUNNING,
    Command.PAUSE: PAUSED,
    Command.STOP: STOPPED,
}
UNFINISHED = [s.value for s in RunState if not s.terminal]


def parse(model: type[BaseModel], doc: Any, where: str) -> Any:
    """Validate one configuration object; problems become a 400 naming the field."""
    if not isinstance(doc, dict):
        raise InvalidInputError(f"{where or 'body'} must be a JSON object", field=where or "body")
    try:
        return model.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        field = f"{where}.{name}" if where else name
        raise InvalidInputError(f"{field}: {first['msg']}", field=field) from exc


class DeploymentService:
    """The caller's flows as configurations, and commands on their deployment status."""

    def __init__(self, services: Services, session: AsyncSession, scope: Scope) -> None:
        self.services = services
        self.session = session
        self.flows = FlowService(session, scope, services.engine)
        self.repo = DeploymentFlowRepository(session, scope)
        self.runs = FlowRunRepository(session, scope)

    # -- configurations ----------------------------------------------------------------------

    async def find(self, ref: str) -> Flow:
        """A flow the caller can see, by id, slug or endpoint name (404 otherwise)."""
        return await self.repo.by_ref(ref)

    async def all_flows(self) -> list[Flow]:
        return await self.flows.search(FlowQuery(flows_only=True, sort_by="name", descending=False))

    async def configurations(self) -> list[dict[str, Any]]:
        flows = await self.all_flows()
        return [
            configuration(r, f.config or {})
            for f, r in zip(flows, await self.flows.reads(flows), strict=True)
        ]

    async def read(self, flow: Flow) -> dict[str, Any]:
        return configuration(await self.flows.read(flow), flow.config or {})

    async def get(self, ref: str) -> dict[str, Any]:
        return await self.read(await self.find(ref))

    async def create(self, docs: Any) -> list[dict[str, Any]]:
        """Add configurations: a JSON array of objects, all or none."""
        if not isinstance(docs, list):
            raise InvalidInputError("the body must be a JSON array of configurations", field="body")
        if not docs:
            raise InvalidInputError("the array holds no configuration", field="body")
        created = []
        for i, doc in enumerate(docs):
            where = f"[{i}]"
            if isinstance(doc, dict) and "slug" not in doc and isinstance(doc.get("flow_id"), str):
                # A client's own id (the seed's "flow1") becomes the slug that addresses the flow.
                doc = {**doc, "slug": doc["flow_id"]}
            body: FlowCreate = parse(FlowCreate, doc, where)
            try:
                flow = await self.flows.create(body)
            except FlowValidationError as exc:
                raise _invalid_graph(exc, where) from exc
            extras = split_extras(doc)
            if extras:
                flow = await self.flows.repo.update(flow, {"config": extras})
            created.append(await self.read(flow))
        return created

    async def update(self, ref: str, doc: Any, *, merge: bool) -> dict[str, Any]:
        """PUT (`merge` False: extra fields replaced) or PATCH (merged; null removes one)."""
        flow = await self.find(ref)
        body: FlowUpdate = parse(FlowUpdate, doc, "")
        try:
            flow = await self.flows.update(flow.id, body)
        except FlowValidationError as exc:
            raise _invalid_graph(exc, "") from exc
        extras = split_extras(doc)
        config = {**(flow.config or {}), **extras} if merge else extras
        config = {k: v for k, v in config.items() if v is not None}
        if config != (flow.config or {}):
            flow = await self.flows.repo.update(flow, {"config": config})
        return await self.read(flow)

    async def delete(self, ref: str) -> dict[str, Any]:
        try:
            flow = await self.find(ref)
        except NotFoundError as exc:
            # The seed answers an unknown id here with 400, not 404.
            raise InvalidInputError(exc.message, field="flow_id") from exc
        await self.flows.repo.soft_delete([flow])
        return {"message": "Configuration deleted successfully", "flow_id": flow.id}

    # -- status ------------------------------------------------------------------------------

    async def statuses(self) -> dict[str, FlowStatus]:
        flows = await self.all_flows()
        counts = await self.runs.counts([f.id for f in flows], UNFINISHED)
        return {f.id: _status(f, counts.get(f.id, {})) for f in flows}

    async def status(self, ref: str) -> FlowStatus:
        flow = await self.find(ref)
        counts = await self.runs.counts([flow.id], UNFINISHED)
        return _status(flow, counts.get(flow.id, {}))

    # -- commands ----------------------------------------------------------------------------

    async def command(self, body: FlowCommand) -> CommandResult:
        """Apply a command to each flow; a flow that cannot be found is reported, not fatal."""
        command = _command(body.command)
        hard = _hard_stop(command, body.type)
        targets: list[tuple[str, Flow | None, str | None]] = []
        if body.flow_ids is None:
            targets = [(f.id, f, None) for f in await self.all_flows()]
        elif not body.flow_ids:
            raise InvalidInputError(
                "flow_ids is empty: list the flows, or omit it to command all flows",
                field="flow_ids",
            )
        for ref in dict.fromkeys(body.flow_ids or []):
            try:
                targets.append((ref, await self.find(ref), None))
            except NotFoundError as exc:
                targets.append((ref, None, exc.message))
        status = TARGET[command]
        before: dict[str, str] = {}
        for _, flow, _ in targets:
            if flow is not None and flow.id not in before:
                before[flow.id] = flow.deployment_status
                await self.repo.set_status(flow, status)
        # Triggers must see the new status before the flow's runs are touched.
        await self.session.commit()
        for flow_id, was in before.items():
            await self._apply(flow_id, command, was, hard)
        details = [
            FlowCommandDetail(flow_id=ref, status=status)
            if flow is not None
            else FlowCommandDetail(flow_id=ref, status="not_found", error=error)
            for ref, flow, error in targets
        ]
        return CommandResult(status=COMMAND_MESSAGES[command], details=details)

    async def _apply(self, flow_id: str, command: Command, was: str, hard: bool) -> None:
        """What a new deployment status means for the runs the flow already has."""
        runs = self.services.runs
        if command is Command.PAUSE:
            for run in await self._runs(flow_id, RunState.RUNNING, RunState.WAITING):
                await _quietly(runs.pause(run.id))
        elif command is Command.STOP and hard:
            for run in await self._runs(flow_id, *[RunState(s) for s in UNFINISHED]):
                await _quietly(runs.cancel(run.id, f"flow {flow_id} was stopped (hard stop)"))
        elif command is Command.STOP and was == PAUSED:
            # Soft stop: held runs never started, so they never will; paused ones may finish.
            for run in await self._held(flow_id):
                await _quietly(runs.cancel(run.id, f"flow {flow_id} was stopped before it ran"))
            for run in await self._runs(flow_id, RunState.PAUSED):
                await _quietly(runs.resume(run.id))
        elif command in (Command.START, Command.RESUME):
            if command is Command.RESUME or was == PAUSED:
                for run in await self._runs(flow_id, RunState.PAUSED):
                    await _quietly(runs.resume(run.id))
            if was == PAUSED:
                # Runs held while paused are queued but were never handed to a worker.
                for run in await self._held(flow_id):
                    await self.services.submit(RunJob(run))

    async def _held(self, flow_id: str) -> list[Run]:
        """Queued runs that start_run held back (not runs recorded to be started later)."""
        return [r for r in await self._runs(flow_id, RunState.QUEUED) if (r.meta or {}).get(HELD)]

    async def _runs(self, flow_id: str, *states: RunState) -> list[Run]:
        # The request's transaction is committed by now: read in a fresh one.
        async with self.services.db.session() as session:
            repo = FlowRunRepository(session, self.runs.scope)
            return await repo.of_flow(flow_id, [s.value for s in states])


def _command(name: str) -> Command:
    try:
        return Command(name)
    except ValueError:
        known = ", ".join(c.value for c in Command)
        raise InvalidInputError(
            f"unknown command {name!r}; use one of: {known}", field="command"
        ) from None


def _hard_stop(command: Command, stop_type: int | None) -> bool:
    """Whether a stop is hard; a `type` other than 0 or 1 is refused with any command."""
    if stop_type is None:
        return False
    if stop_type not in (SOFT_STOP, HARD_STOP):
        raise InvalidInputError(
            f"type must be {SOFT_STOP} (soft stop) or {HARD_STOP} (hard stop), got {stop_type}",
            field="type",
        )
    return command is Command.STOP and stop_type == HARD_STOP


async def _quietly(action: Any) -> None:
    """Apply a run control; a run that moved on meanwhile (e.g. just finished) is left alone."""
    try:
        await action
    except (InvalidStateError, NotFoundError) as exc:
        log.debug("run control skipped: %s", exc.message)


def _status(flow: Flow, counts: dict[str, int]) -> FlowStatus:
    return FlowStatus(
        flow_id=flow.id,
        name=flow.name,
        slug=flow.slug,
        status=flow.deployment_status,
        runs=RunCounts.model_validate(counts),
    )


def _invalid_graph(exc: FlowValidationError, where: str) -> InvalidInputError:
    """The seed answers every invalid configuration with 400; the issues are kept."""
    field = f"{where}.data" if where else "data"
    return InvalidInputError(exc.message, field=field, errors=[i.to_dict() for i in exc.issues])
