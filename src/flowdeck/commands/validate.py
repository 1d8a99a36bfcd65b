"""`flowdeck validate`: check a flow file against the registry without running it."""

from __future__ import annotations

import sys

from flowdeck.commands.common import compile_flow, load_flow, make_engine


def validate_command(*, flow: str) -> int:
    """Print "valid: N components, M edges", or raise a CliError listing every issue."""
    spec = load_flow(flow)
    graph = compile_flow(make_engine(spec), spec)
    n, m = len(graph.vertices), len(graph.edges)
    sys.stdout.write(
        f"valid: {n} component{'s' if n != 1 else ''}, {m} edge{'s' if m != 1 else ''}\n"
    )
    return 0
