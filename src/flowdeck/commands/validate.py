"""`flowdeck validate`: check a flow file against the registry without running it."""

from __future__ import annotations

import sys

from flowdeck.commands.common import compile_flow, load_flow, make_engine


def validate_command(*, flow: str) -> int:
    """Print "valid: N components, M edges", or raise a CliError listing every issue.

    A valid flow whose components run custom code while it is disabled gets a warning on
    stderr: it would fail at its first run.
    """
    spec = load_flow(flow)
    engine = make_engine(spec)
    graph = compile_flow(engine, spec)
    if not engine.allow_custom_code:
        for v in graph.vertices.values():
            if v.component.runs_custom_code:
                sys.stderr.write(
                    f"warning: {v.display_name} ({v.id}) runs custom code, which is disabled: "
                    "set FLOWDECK_ALLOW_CUSTOM_CODE=true to run this flow\n"
                )
    n, m = len(graph.vertices), len(graph.edges)
    sys.stdout.write(
        f"valid: {n} component{'s' if n != 1 else ''}, {m} edge{'s' if m != 1 else ''}\n"
    )
    return 0
