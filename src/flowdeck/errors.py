"""Domain errors: one root, mapped to HTTP status codes once, in the API layer."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class FlowdeckError(Exception):
    """Root of every error flowdeck raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        out.update(self.details)
        return out


class InvalidInputError(FlowdeckError):
    """The request is malformed or names something that cannot be used."""

    code = "invalid_input"


class UnprocessableError(FlowdeckError):
    """A well-formed request whose values cannot be stored or used (a missing value, a
    reference to nothing); 422 where InvalidInputError is 400."""

    code = "unprocessable"


class NotFoundError(FlowdeckError):
    code = "not_found"


class ConflictError(FlowdeckError):
    code = "conflict"


class AuthenticationError(FlowdeckError):
    code = "not_authenticated"


class PermissionDeniedError(FlowdeckError):
    code = "forbidden"


class WeakPasswordError(InvalidInputError):
    """A password the policy refuses (too short, equal to the username)."""

    code = "weak_password"


class TooManyAttemptsError(FlowdeckError):
    """Too many failed logins; `retry_after` says in how many seconds to try again."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, retry_after=retry_after)
        self.retry_after = retry_after


class InvalidStateError(FlowdeckError):
    """An operation does not fit the current state (e.g. resuming a finished run)."""

    code = "invalid_state"


class CustomCodeDisabledError(FlowdeckError):
    code = "custom_code_disabled"


@dataclass(frozen=True, slots=True)
class GraphIssue:
    """One problem in a flow graph, naming the node and field it concerns."""

    node_id: str | None
    field: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"node_id": self.node_id, "field": self.field, "message": self.message}

    def __str__(self) -> str:
        where = ".".join(p for p in (self.node_id, self.field) if p)
        return f"{where}: {self.message}" if where else self.message


class FlowValidationError(FlowdeckError):
    """A flow graph failed validation; every issue found is listed at once."""

    code = "invalid_flow"

    def __init__(self, issues: list[GraphIssue]) -> None:
        lines = "; ".join(str(i) for i in issues)
        super().__init__(f"Flow is invalid: {lines}")
        self.issues = issues

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "message": self.message,
            "errors": [i.to_dict() for i in self.issues],
        }


class FlowFormatError(FlowdeckError):
    """A flow document cannot be read at all (not JSON/YAML, wrong layout)."""

    code = "invalid_flow_format"
