"""The typer app: every command, with help. The hot ones also have a fast path in `cli`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any, Literal

import typer

from flowdeck.cli import HOT_COMMANDS, Opt, invoke


def _typer_command(
    app: typer.Typer, name: str, help: str, opts: Sequence[Opt], fn: Callable[..., int]
) -> None:
    """Register a hot command on the typer app, its parameters built from the same table."""
    params: list[inspect.Parameter] = []
    hints: dict[str, Any] = {}
    for o in opts:
        info: Any
        if o.kind == "arg":
            info, hints[o.dest] = typer.Argument(..., metavar=o.metavar, help=o.help), str
        else:
            kind: Any = Literal[o.choices] if o.choices else str  # typer shows the choices
            hints[o.dest] = {
                "flag": bool,
                "list": list[str] | None,
                "int": int | None,
                "float": float | None,
            }.get(o.kind, kind | None)
            info = typer.Option(
                False if o.kind == "flag" else None,
                *o.flags,
                help=o.help,
                metavar=o.metavar or None,
                show_default=False,
            )
        params.append(inspect.Parameter(o.dest, inspect.Parameter.KEYWORD_ONLY, default=info))

    def command(**values: Any) -> None:
        values = {k: [] if v is None and k in lists else v for k, v in values.items()}
        code = invoke(fn, values)
        if code:
            raise typer.Exit(code)

    lists = {o.dest for o in opts if o.kind == "list"}
    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__annotations__ = {**hints, "return": None}
    app.command(name, help=help)(command)


def _print_version(value: bool) -> None:
    if value:
        from flowdeck import __version__

        typer.echo(f"flowdeck {__version__}")
        raise typer.Exit()


def build_app() -> typer.Typer:
    """The full typer app; slower to import, used for every command but the hot path."""
    app = typer.Typer(
        name="flowdeck",
        help="flowdeck: run Langflow-format flows, and serve them.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False,
            "--version",
            is_eager=True,
            callback=_print_version,
            help="Print the version and exit.",
        ),
    ) -> None:
        """flowdeck: run Langflow-format flows, and serve them."""

    @app.command("components")
    def components(
        as_json: bool = typer.Option(False, "--json", help="Print the registry as JSON."),
    ) -> None:
        """List the built-in components with their inputs and outputs."""
        from flowdeck.commands.components import components_command

        code = invoke(components_command, {"as_json": as_json})
        if code:
            raise typer.Exit(code)

    for name, (help, opts, fn) in HOT_COMMANDS.items():
        _typer_command(app, name, help, opts, fn)

    return app
