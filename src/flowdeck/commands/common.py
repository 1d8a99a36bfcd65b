"""What the commands share: failing cleanly, reading flow files, tweaks and the engine."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowdeck.cli import EXIT_FAILED, EXIT_USAGE

if TYPE_CHECKING:
    from flowdeck.engine.core import Engine
    from flowdeck.engine.flowfile import FlowSpec
    from flowdeck.engine.graph import Graph
    from flowdeck.errors import GraphIssue

TRUTHY = frozenset({"1", "true", "yes", "on"})


class CliError(Exception):
    """A failure the user can fix: printed as one line, never as a traceback."""

    def __init__(self, message: str, code: int = EXIT_FAILED) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


def fail(message: str, code: int = EXIT_FAILED) -> int:
    sys.stderr.write(f"error: {message}\n")
    return code


def load_flow(path: str) -> FlowSpec:
    """Read a flow file; a missing or malformed file is a CliError naming it."""
    from flowdeck.engine.flowfile import load_flow_file
    from flowdeck.errors import FlowFormatError

    p = Path(path)
    if p.is_dir():
        raise CliError(f"{path} is a directory, not a flow file")
    try:
        return load_flow_file(p)
    except FlowFormatError as exc:
        raise CliError(exc.message) from None


def parse_tweaks(items: list[str]) -> dict[str, dict[str, Any]]:
    """`COMPONENT.FIELD=VALUE` items as Langflow's tweaks: `{component: {field: value}}`."""
    import orjson

    tweaks: dict[str, dict[str, Any]] = {}
    for item in items:
        key, eq, raw = item.partition("=")
        component, dot, field = key.rpartition(".")
        if not eq or not dot or not component or not field:
            raise CliError(f"bad --tweak {item!r}: expected COMPONENT.FIELD=VALUE", code=EXIT_USAGE)
        try:
            value: Any = orjson.loads(raw)
        except orjson.JSONDecodeError:
            value = raw
        tweaks.setdefault(component, {})[field] = value
    return tweaks


def describe_issues(issues: list[GraphIssue]) -> str:
    """One line per issue: node, field, message."""
    lines = []
    for issue in issues:
        where = f"node {issue.node_id}" if issue.node_id else "flow"
        if issue.field:
            where += f", field {issue.field}"
        lines.append(f"  {where}: {issue.message}")
    return "\n".join(lines)


def compile_flow(engine: Engine, spec: FlowSpec, tweaks: dict[str, Any] | None = None) -> Graph:
    """Compile, turning validation errors into one message listing every issue."""
    from flowdeck.errors import FlowValidationError

    try:
        return engine.compile(spec, tweaks)
    except FlowValidationError as exc:
        name = str(spec.source) if spec.source else spec.name
        count = len(exc.issues)
        raise CliError(
            f"{name} is invalid ({count} issue{'s' if count != 1 else ''}):\n"
            + describe_issues(exc.issues)
        ) from None


def make_engine(spec: FlowSpec, run_timeout: float | None = None) -> Engine:
    """An engine for one command-line run: sub-flow paths resolve next to the flow file."""
    from flowdeck.engine.core import Engine
    from flowdeck.engine.netpolicy import NetworkPolicy
    from flowdeck.engine.resolvers import FileFlowResolver

    base = spec.source.parent if spec.source else Path.cwd()
    allow = os.environ.get("FLOWDECK_ALLOW_CUSTOM_CODE", "").strip().lower() in TRUTHY
    # A command-line run is its user's own: private networks unless the variable says no.
    private = os.environ.get("FLOWDECK_ALLOW_PRIVATE_NETWORKS", "true").strip().lower()
    return Engine(
        allow_custom_code=allow,
        network=NetworkPolicy(allow_private=private in TRUTHY),
        flow_resolver=FileFlowResolver(base),
        run_timeout=run_timeout,
    )
