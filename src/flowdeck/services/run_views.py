"""Runs as the run dialects see them: scoped lookups, filters, cursor pages, create and control.

The flow-runs and executions dialects are two vocabularies over the same records; everything
they share (which runs a caller may see, how a listing pages, how parameters become a run
request, how a run is held before it starts) lives here once.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import Flow, Run, User
from flowdeck.db.repositories.base import Repository, Scope
from flowdeck.db.repositories.flows import FlowRepository
from flowdeck.errors import ConflictError, InvalidInputError, InvalidStateError, NotFoundError
from flowdeck.runs.states import RunState
from flowdeck.schemas.flows import as_utc
from flowdeck.services.container import Services
from flowdeck.services.execution import HELD, PAUSED, STOPPED, start_run
from flowdeck.workers.runner import RunJob

# Run.meta keys this module owns.
HOLD = "hold"  # created, but not to start until asked (the executions dialect's "created")
ARGS = "args"  # the parameters exactly as the client sent them
_REQUEST_KEYS = ("input_value", "input_type", "session_id", "tweaks")
_INPUT_TYPES = ("chat", "text", "any")


class RunRecords(Repository[Run]):
    model = Run
    label = "run"


def is_held(run: Run) -> bool:
    return run.state == RunState.QUEUED and bool((run.meta or {}).get(HOLD))


def run_args(run: Run) -> dict[str, Any]:
    """The parameters a run was started with: as sent through a dialect, else from its request."""
    meta = run.meta or {}
    if isinstance(meta.get(ARGS), dict):
        return dict(meta[ARGS])
    req = run.request or {}
    return {k: req[k] for k in _REQUEST_KEYS if req.get(k) is not None}


def output_values(run: Run) -> dict[str, Any]:
    """A run's results as `{component_id: {output_name: value}}` (texts as plain strings)."""
    values: dict[str, Any] = {}
    for block in (run.outputs or {}).get("outputs") or []:
        for result in block.get("outputs") or []:
            outs = result.get("outputs") or {}
            values[result.get("component_id") or ""] = {
                name: out.get("message") if isinstance(out, dict) else out
                for name, out in outs.items()
            }
    return values


def request_from_params(params: dict[str, Any], field_name: str) -> dict[str, Any]:
    """A run request from dialect parameters: known request keys and `component.field` tweaks."""
    req: dict[str, Any] = {"output_type": "any"}
    tweaks: dict[str, dict[str, Any]] = {}
    for key, value in params.items():
        where = f"{field_name}.{key}"
        if key in ("input_value", "input"):
            is_text = value is None or isinstance(value, str)
            req["input_value"] = value if is_text else orjson.dumps(value).decode()
        elif key == "input_type":
            if value not in _INPUT_TYPES:
                raise InvalidInputError(
                    f"{where} must be one of {', '.join(_INPUT_TYPES)}", field=where
                )
            req["input_type"] = value
        elif key == "session_id":
            if value is not None and not isinstance(value, str):
                raise InvalidInputError(f"{where} must be a string", field=where)
            req["session_id"] = value
        elif key == "tweaks":
            if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
                raise InvalidInputError(f"{where} must map component ids to objects", field=where)
            for comp, fields in value.items():
                tweaks.setdefault(comp, {}).update(fields)
        elif "." in key.strip(".") and not key.startswith(".") and not key.endswith("."):
            comp, _, name = key.partition(".")
            tweaks.setdefault(comp, {})[name] = value
        else:
            raise InvalidInputError(
                f"unknown parameter {where}: use input_value, input_type, session_id, tweaks, "
                "or '<component_id>.<field>'",
                field=where,
            )
    if tweaks:
        req["tweaks"] = tweaks
    return req


# -- cursor pages --------------------------------------------------------------------------

# A cursor is a position in the listing (newest first) and which side of it to read:
# "after"/"from" read forward (exclusive/inclusive), "before"/"upto" read backward.
_FORWARD = ("after", "from")
_OPS = (*_FORWARD, "before", "upto")


def encode_cursor(op: str, run: Run) -> str:
    created = as_utc(run.created_at)
    raw = orjson.dumps([op, created.isoformat() if created else "", run.id])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(value: str) -> tuple[str, datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
        op, created, run_id = orjson.loads(raw)
        at = as_utc(datetime.fromisoformat(created))
        if op in _OPS and isinstance(run_id, str) and at is not None:
            return op, at, run_id
    except (ValueError, TypeError, binascii.Error, orjson.JSONDecodeError):
        pass
    raise InvalidInputError("cursor is not one this server handed out", field="cursor")


def _beyond(op: str, at: datetime, run_id: str) -> ColumnElement[bool]:
    """Rows on the `op` side of a position, in newest-first order."""
    if op in _FORWARD:
        same = Run.id <= run_id if op == "from" else Run.id < run_id
        return or_(Run.created_at < at, and_(Run.created_at == at, same))
    same = Run.id >= run_id if op == "upto" else Run.id > run_id
    return or_(Run.created_at > at, and_(Run.created_at == at, same))


@dataclass(frozen=True, slots=True)
class RunFilter:
    """What a listing narrows to; empty fields do not narrow."""

    flow_id: str | None = None
    states: tuple[RunState, ...] = ()
    held: bool | None = None  # only runs held before their start (True), or none of them
    flow_type: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        out: list[ColumnElement[bool]] = []
        if self.flow_id:
            out.append(Run.flow_id == self.flow_id)
        if self.states:
            out.append(Run.state.in_([s.value for s in self.states]))
        if self.flow_type:
            out.append(Run.flow_type == self.flow_type)
        if self.held is not None:
            hold = Run.meta[HOLD].as_boolean()
            out.append(hold.is_(True) if self.held else or_(hold.is_(None), hold.is_(False)))
        return out


@dataclass(slots=True)
class RunPage:
    items: list[Run] = field(default_factory=list)
    total: int = 0
    current_page: str | None = None
    current_page_backwards: str | None = None
    previous_page: str | None = None
    next_page: str | None = None


class RunViews:
    """A caller's runs: list by cursor, read, create from a flow, start, control, delete."""

    def __init__(self, services: Services, session: AsyncSession, user: User, scope: Scope):
        self.services = services
        self.session = session
        self.user = user
        self.repo = RunRecords(session, scope)
        self.flows = FlowRepository(session, scope)

    async def page(self, flt: RunFilter, *, cursor: str | None, size: int) -> RunPage:
        conds = flt.conditions()
        total = await self.repo.count(*conds)
        op, where = "after", list(conds)
        if cursor:
            op, at, run_id = decode_cursor(cursor)
            where.append(_beyond(op, at, run_id))
        forward = op in _FORWARD
        order = (
            (Run.created_at.desc(), Run.id.desc())
            if forward
            else (Run.created_at.asc(), Run.id.asc())
        )
        rows = await self.repo.list(*where, order_by=order, limit=size + 1)
        more, items = len(rows) > size, rows[:size]
        if not forward:
            items.reverse()
        page = RunPage(items=items, total=total, current_page=cursor)
        if not items:
            return page
        first, last = items[0], items[-1]
        if forward:
            has_next = more
            has_prev = bool(cursor) and await self._any(conds, _beyond("before", *_key(first)))
        else:
            has_prev = more
            has_next = await self._any(conds, _beyond("after", *_key(last)))
        page.current_page = encode_cursor("from", first)
        page.current_page_backwards = encode_cursor("upto", last)
        page.previous_page = encode_cursor("before", first) if has_prev else None
        page.next_page = encode_cursor("after", last) if has_next else None
        return page

    async def _any(self, conds: list[ColumnElement[bool]], extra: ColumnElement[bool]) -> bool:
        return bool(await self.repo.list(*conds, extra, limit=1))

    async def get(self, run_id: str) -> Run:
        return await self.repo.get(run_id)

    async def find(self, run_id: str) -> Run | None:
        return await self.repo.find(run_id)

    async def flow(self, ref: str, field_name: str) -> Flow:
        """The caller's flow by id, endpoint name or slug; a 404 naming the request field."""
        try:
            return await self.flows.by_ref(ref)
        except NotFoundError as exc:
            raise NotFoundError(f"flow {ref} not found", field=field_name) from exc

    async def create(
        self,
        flow: Flow,
        params: dict[str, Any],
        *,
        params_field: str,
        flow_field: str,
        run_id: str | None = None,
        tags: list[Any] | None = None,
        meta: dict[str, Any] | None = None,
        hold: bool = False,
    ) -> Run:
        """Record a run of `flow` and start it, or keep it created until `start` (hold)."""
        request = request_from_params(params, params_field)
        if run_id is not None and await self._id_taken(run_id):
            raise ConflictError(f"a run with id {run_id} already exists", field="id")
        # Release this session's transaction first: SQLite allows one writer at a time.
        await self.session.commit()
        try:
            return await start_run(
                self.services,
                flow=flow,
                user=self.user,
                trigger="api",
                request=request,
                tags=tags,
                meta={**(meta or {}), ARGS: params, HOLD: hold},
                run_id=run_id,
                submit=not hold,
            )
        except InvalidStateError as exc:  # a stopped flow: name the field this request used
            raise InvalidStateError(exc.message, field=flow_field) from exc
        # The same id created at the same moment is an IntegrityError: the API answers it
        # (409 naming `id`) where it maps every integrity error.

    async def _id_taken(self, run_id: str) -> bool:
        # Unscoped on purpose: ids are unique across every tenant.
        stmt = select(Run.id).where(Run.id == run_id).limit(1)
        return (await self.session.execute(stmt)).first() is not None

    async def id_taken_elsewhere(self, run_id: str) -> bool:
        """Whether a run id exists but is not the caller's to see."""
        return await self.repo.find(run_id) is None and await self._id_taken(run_id)

    async def start(self, run: Run) -> Run:
        """Start a held run; a run of a paused flow waits for the flow to run again."""
        if not is_held(run):
            raise InvalidStateError(f"run {run.id} was already started", field="action")
        flow = await self.session.get(Flow, run.flow_id) if run.flow_id else None
        if flow is not None and flow.deployment_status == STOPPED:
            raise InvalidStateError(f"flow {flow.id} is stopped and starts no runs", field="action")
        paused = flow is not None and flow.deployment_status == PAUSED
        meta = {**run.meta, HOLD: False}
        if paused:
            meta[HELD] = True  # the flow's resume hands it to a worker, as start_run does
        started = await self.services.runs.store.update(
            run.id, {"meta": meta}, from_states=[RunState.QUEUED.value]
        )
        if started is None:
            raise InvalidStateError(f"run {run.id} is no longer waiting to start", field="action")
        if not paused:
            await self.services.submit(RunJob(started))
        return started

    async def control(self, run: Run, to: RunState) -> Run:
        """Move a run towards `to` through the run service (cancel, pause, resume, approve)."""
        runs = self.services.runs
        if to == run.state:
            return run
        if to is RunState.CANCELLED:
            return await runs.cancel(run.id)
        if to is RunState.PAUSED:
            return await runs.pause(run.id)
        if to is RunState.RUNNING and run.state == RunState.PAUSED:
            return await runs.resume(run.id)
        if to is RunState.RUNNING and run.state == RunState.WAITING:
            return await runs.answer(run.id, True, user_id=self.user.id)
        if to is RunState.RUNNING and is_held(run):
            return await self.start(run)
        raise InvalidStateError(
            f"run {run.id} is {run.state}; it cannot become {to}", field="phase"
        )

    async def update(self, run: Run, changes: dict[str, Any]) -> Run:
        """Change a run's own fields (tags, metadata); records who changed it."""
        updated = await self.services.runs.store.update(
            run.id, {**changes, "updated_by": self.user.id}
        )
        if updated is None:
            raise NotFoundError(f"run {run.id} not found", field="run_id")
        return updated

    async def delete(self, run: Run) -> None:
        if not RunState(run.state).terminal:
            raise InvalidStateError(
                f"run {run.id} is {run.state}; cancel it before deleting it", field="phase"
            )
        await self.repo.delete(run)
        await self.session.commit()


def _key(run: Run) -> tuple[datetime, str]:
    at = as_utc(run.created_at)
    assert at is not None  # every stored run has a creation time
    return at, run.id
