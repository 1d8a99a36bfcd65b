"""The run state machine: which state may follow which."""

from __future__ import annotations

from enum import StrEnum


class RunState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    PAUSED = "paused"
    WAITING = "waiting"  # a step awaits input or approval
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL

    @property
    def active(self) -> bool:
        return self in (RunState.RUNNING, RunState.PAUSED, RunState.WAITING)


TERMINAL = frozenset({RunState.COMPLETED, RunState.FAILED, RunState.CANCELLED})
UNFINISHED = frozenset(s for s in RunState if s not in TERMINAL)

_S = RunState
ALLOWED: dict[RunState, frozenset[RunState]] = {
    # RUNNING -> QUEUED is a retry after the worker holding the run was lost.
    _S.QUEUED: frozenset({_S.RUNNING, _S.CANCELLED, _S.FAILED}),
    _S.RUNNING: frozenset(
        {_S.PAUSED, _S.WAITING, _S.COMPLETED, _S.FAILED, _S.CANCELLED, _S.QUEUED}
    ),
    # A pause takes effect at the next step boundary; a run with none left just ends. A run
    # paused while a step waits for an answer goes back to WAITING when resumed.
    _S.PAUSED: frozenset(
        {_S.RUNNING, _S.WAITING, _S.COMPLETED, _S.CANCELLED, _S.FAILED, _S.QUEUED}
    ),
    _S.WAITING: frozenset(
        {_S.RUNNING, _S.PAUSED, _S.COMPLETED, _S.CANCELLED, _S.FAILED, _S.QUEUED}
    ),
    _S.COMPLETED: frozenset(),
    _S.FAILED: frozenset(),
    _S.CANCELLED: frozenset(),
}


def can_move(current: RunState, target: RunState) -> bool:
    return target in ALLOWED[current]


# Run.meta flags of queued runs that must not start until released: "hold" (recorded to be
# started later, the executions dialect's "created") and "held_by_pause" (its flow is paused).
HOLD_FLAGS = ("hold", "held_by_pause")


def on_hold(meta: dict[str, object] | None) -> bool:
    """Whether a queued run waits to be released rather than for a worker."""
    return bool(meta) and any(meta.get(flag) for flag in HOLD_FLAGS)  # type: ignore[union-attr]
