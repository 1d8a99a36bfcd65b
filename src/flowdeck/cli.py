"""The `flowdeck` command.

`flowdeck run` must start in a few tens of milliseconds, and typer, click and rich
together cost more than that to import (a tenth of a second, also a fifteenth of a server's
start-up). So the hot commands (`run`, `validate`, `serve`, `worker`) are
parsed by a tiny parser reading the option table below; anything it does not accept
(`--help`, a usage error, every other command) goes to the typer app in
`flowdeck.commands.app`, which builds the same commands from the same table. Each command
is a small function in `flowdeck.commands`, imported only when it runs.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, NoReturn

# Exit codes: 0 success, 1 the flow is bad or its run failed, 2 the command line is wrong.
EXIT_FAILED = 1
EXIT_USAGE = 2


class Opt:
    """One parameter of a hot command: read by the fast parser and by the typer app."""

    __slots__ = ("choices", "dest", "flags", "help", "kind", "metavar")

    def __init__(
        self,
        dest: str,
        flags: tuple[str, ...],
        help: str,
        *,
        kind: str = "str",  # str | int | float | flag | list | arg (positional)
        metavar: str = "",
        choices: tuple[str, ...] = (),
    ) -> None:
        self.dest = dest
        self.flags = flags
        self.help = help
        self.kind = kind
        self.metavar = metavar
        self.choices = choices

    def default(self) -> Any:
        return {"flag": False, "list": []}.get(self.kind)


_FLOW = Opt(
    "flow",
    (),
    "Flow file: a Langflow export or flow record (.json), or native .yaml/.json.",
    kind="arg",
    metavar="FLOW",
)

RUN_OPTS: tuple[Opt, ...] = (
    _FLOW,
    Opt(
        "input_value",
        ("--input", "-i"),
        "The run's input text ('-' reads standard input).",
        metavar="TEXT",
    ),
    Opt(
        "input_type",
        ("--input-type",),
        "Which input components receive --input (default: chat if the flow has a chat input, "
        "else text).",
        choices=("chat", "text", "any"),
    ),
    Opt(
        "tweaks",
        ("--tweak", "-t"),
        "Override a field: COMPONENT.FIELD=VALUE, by component id or display name; VALUE is "
        "read as JSON when it parses, else as text. Repeatable.",
        kind="list",
        metavar="COMPONENT.FIELD=VALUE",
    ),
    Opt(
        "output_format",
        ("--output-format", "-o"),
        "text: the output text (default); json: Langflow's RunResponse.",
        choices=("text", "json"),
    ),
    Opt(
        "stream", ("--stream", "-s"), "Print step progress and tokens as they happen.", kind="flag"
    ),
    Opt("session_id", ("--session-id",), "Session id for the run's messages.", metavar="ID"),
    Opt(
        "timeout",
        ("--timeout",),
        "Fail the run after this many seconds.",
        kind="float",
        metavar="SECONDS",
    ),
)

VALIDATE_OPTS: tuple[Opt, ...] = (_FLOW,)

SERVE_OPTS: tuple[Opt, ...] = (
    Opt("host", ("--host",), "Address to bind (FLOWDECK_HOST).", metavar="TEXT"),
    Opt("port", ("--port",), "Port (FLOWDECK_PORT).", kind="int", metavar="INTEGER"),
    Opt("workers", ("--workers",), "API processes (FLOWDECK_WORKERS).", kind="int"),
)

WORKER_OPTS: tuple[Opt, ...] = (
    Opt(
        "concurrency",
        ("--concurrency",),
        "Runs executed at once (default FLOWDECK_MAX_CONCURRENT_RUNS).",
        kind="int",
        metavar="INTEGER",
    ),
    Opt("name", ("--name",), "Worker name (default host and pid).", metavar="TEXT"),
    Opt(
        "shutdown",
        ("--shutdown",),
        "On SIGTERM: 'soft' finishes runs in flight, 'hard' hands them to another "
        "worker (FLOWDECK_WORKER_SHUTDOWN).",
        metavar="TEXT",
    ),
)


def _run(**kw: Any) -> int:
    from flowdeck.commands.run import run_command

    _imports_done()
    return run_command(**kw)


def _validate(**kw: Any) -> int:
    from flowdeck.commands.validate import validate_command

    _imports_done()
    return validate_command(**kw)


def _serve(**kw: Any) -> int:
    from flowdeck.commands.serve import serve_command

    return serve_command(**kw)


def _worker(**kw: Any) -> int:
    from flowdeck.workers.celery_worker import worker_command

    return worker_command(**kw)


def _imports_done() -> None:
    """Resume the collector if `main` paused it, leaving the imported modules out of its scans."""
    import gc

    if not gc.isenabled():
        from flowdeck import heap
        from flowdeck.engine.components.registry import default_registry

        default_registry()  # imports every built-in component
        heap.settle()  # frozen, and the collector at heap.THRESHOLDS


# name -> (one-line help, options, implementation)
HOT_COMMANDS: dict[str, tuple[str, tuple[Opt, ...], Callable[..., int]]] = {
    "run": ("Run a flow file and print its output.", RUN_OPTS, _run),
    "validate": ("Check a flow file without running it.", VALIDATE_OPTS, _validate),
    "serve": (
        "Serve the API (settings from FLOWDECK_* variables and .env).",
        SERVE_OPTS,
        _serve,
    ),
    "worker": (
        "Execute runs from the broker (distributed mode: FLOWDECK_BROKER_URL, REDIS_URL).",
        WORKER_OPTS,
        _worker,
    ),
}
# Commands that end quickly, whose process may exit without tearing down (`_exit_now`).
SHORT_COMMANDS = frozenset({"run", "validate"})


def fast_parse(opts: Sequence[Opt], argv: Sequence[str]) -> dict[str, Any] | None:
    """Parse a well-formed command line; None hands it to typer (help, usage errors)."""
    values: dict[str, Any] = {o.dest: o.default() for o in opts}
    by_flag = {f: o for o in opts for f in o.flags}
    positional = [o for o in opts if o.kind == "arg"]
    filled = 0
    rest = list(argv)
    only_args = False
    while rest:
        arg = rest.pop(0)
        if only_args or arg == "-" or not arg.startswith("-"):
            if filled == len(positional):
                return None
            values[positional[filled].dest] = arg
            filled += 1
            continue
        if arg == "--":
            only_args = True
            continue
        name, eq, inline = arg.partition("=") if arg.startswith("--") else (arg, "", "")
        opt = by_flag.get(name)
        if opt is None:
            return None
        if opt.kind == "flag":
            if eq:
                return None
            values[opt.dest] = True
            continue
        if not eq:
            if not rest:
                return None
            inline = rest.pop(0)
        if opt.choices and inline not in opt.choices:
            return None
        if opt.kind == "list":
            values[opt.dest].append(inline)
        elif opt.kind in ("int", "float"):
            try:
                values[opt.dest] = int(inline) if opt.kind == "int" else float(inline)
            except ValueError:
                return None
        else:
            values[opt.dest] = inline
    return values if filled == len(positional) else None


def invoke(fn: Callable[..., int], values: dict[str, Any]) -> int:
    """Run a command; every failure becomes one line on stderr and an exit code."""
    from flowdeck.commands.common import CliError, fail

    try:
        return fn(**values)
    except CliError as exc:
        return fail(exc.message, exc.code)
    except KeyboardInterrupt:
        return fail("interrupted", 130)
    except BrokenPipeError:
        # The reader went away (`| head`): stop quietly, as other command-line tools do.
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - flushed at exit, never closed
        return EXIT_FAILED
    except Exception as exc:
        from flowdeck.errors import FlowdeckError

        if isinstance(exc, FlowdeckError):
            return fail(exc.message)
        if os.environ.get("FLOWDECK_DEBUG", "").lower() in ("1", "true", "yes", "on"):
            raise
        return fail(f"internal error: {type(exc).__name__}: {exc} (FLOWDECK_DEBUG=1 shows more)")


def main(argv: Sequence[str] | None = None) -> int:
    """Console entry point; `argv` (for tests) defaults to the process's arguments."""
    args = list(sys.argv[1:] if argv is None else argv)
    hot = HOT_COMMANDS.get(args[0]) if args else None
    if hot is not None:
        values = fast_parse(hot[1], args[1:])
        if values is not None:
            if argv is not None or args[0] not in SHORT_COMMANDS:
                # A server runs until it is stopped, then exits as any process does.
                return invoke(hot[2], values)
            from flowdeck import heap

            # Importing the engine allocates many long-lived objects; collecting during it
            # finds nothing and costs ~5% of a cold `run` (settled in `_imports_done`).
            heap.hold()
            code = invoke(hot[2], values)
            _exit_now(code)
    from flowdeck.commands.app import build_app

    try:
        build_app()(args=args, prog_name="flowdeck")
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_FAILED
    return 0


def _exit_now(code: int) -> NoReturn:
    """End the process without tearing down every module (~10% of a cold `run`).

    Only for a whole-process hot command whose work is done: output is flushed here, the
    event loop and clients are closed, and nothing registers exit handlers on this path.
    """
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):
        code = code or EXIT_FAILED
    os._exit(code)


if __name__ == "__main__":
    sys.exit(main())
