"""`flowdeck run --stream`: step progress on stderr (rich), tokens on stdout as they come."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any, TextIO

from rich.console import Console
from rich.live import Live
from rich.markup import escape
from rich.spinner import Spinner

from flowdeck.engine.events import BUILD_START, END_VERTEX, TOKEN

if TYPE_CHECKING:
    from flowdeck.engine.results import RunResult


class StreamDisplay:
    """An event sink that shows a run as it happens.

    On a terminal a spinner names the steps running now; elsewhere (pipes, logs) each step
    start is a line. Every finished step is a line. The spinner is hidden while tokens
    stream, since both share the terminal.
    """

    def __init__(
        self, names: dict[str, str], tokens: TextIO | None = None, console: Console | None = None
    ) -> None:
        self.names = names  # vertex id -> "Display Name (id)"
        # Tokens go to stdout, unless stdout is reserved for a JSON document.
        self.tokens = tokens or sys.stdout
        self.console = console or Console(stderr=True, highlight=False)
        self.running: dict[str, str] = {}
        self._live: Live | None = None
        self._chunks: dict[str, list[str]] = {}
        self._mid_line = False

    @property
    def streamed(self) -> set[str]:
        """The full texts already printed token by token (not printed again at the end)."""
        return {"".join(chunks) for chunks in self._chunks.values()}

    def emit(self, event: str, data: dict[str, Any]) -> None:
        if event == TOKEN:
            self._token(str(data.get("chunk", "")), str(data.get("id", "")))
            return
        if event == BUILD_START:
            self._end_tokens()
            vid = str(data.get("id", ""))
            self.running[vid] = self._name(vid)
            if self.console.is_terminal:
                self._show_spinner()
            else:
                self.console.print(f"[dim]▸ {self.running[vid]}[/dim]")
        elif event == END_VERTEX:
            self._end_tokens()
            self._end_vertex(data.get("build_data") or {})

    def _end_vertex(self, build: dict[str, Any]) -> None:
        vid = str(build.get("id", ""))
        self.running.pop(vid, None)
        name = self._name(vid)
        duration = escape(str((build.get("data") or {}).get("duration", "")))
        if build.get("valid"):
            self.console.print(f"[green]✓[/green] {name} [dim]{duration}[/dim]")
        else:
            error = escape(str(build.get("params") or "failed"))
            self.console.print(f"[red]✗[/red] {name}: [red]{error}[/red]")
        for skipped in build.get("inactivated_vertices") or []:
            skipped_name = self._name(str(skipped))
            self.console.print(f"[dim]○ {skipped_name} skipped (branch not taken)[/dim]")
        if self.console.is_terminal:
            self._show_spinner()

    def _name(self, vid: str) -> str:
        return escape(self.names.get(vid, vid))

    def _token(self, chunk: str, message_id: str) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None
        self._chunks.setdefault(message_id, []).append(chunk)
        self.tokens.write(chunk)
        self.tokens.flush()
        self._mid_line = not chunk.endswith("\n") if chunk else self._mid_line

    def _end_tokens(self) -> None:
        if self._mid_line:
            self.tokens.write("\n")
            self.tokens.flush()
            self._mid_line = False

    def _show_spinner(self) -> None:
        if not self.running:
            self._stop_spinner()
            return
        text = "running " + ", ".join(self.running.values())
        if self._live is None:
            # Never capture stdout: tokens and results must stay on it.
            self._live = Live(
                Spinner("dots", text),
                console=self.console,
                transient=True,
                redirect_stdout=False,
                redirect_stderr=False,
            )
            self._live.start()
        else:
            self._live.update(Spinner("dots", text))

    def _stop_spinner(self) -> None:
        if self._live is not None:
            self._live.stop()
            self._live = None

    def finish(self, result: RunResult) -> None:
        """Close the display with a one-line summary of the run."""
        self._stop_spinner()
        self._end_tokens()
        ms = result.duration * 1000
        if result.ok:
            self.console.print(f"[green]completed[/green] [dim]in {ms:.0f} ms[/dim]")
        else:
            self.console.print(f"[red]{result.status.value}[/red] [dim]after {ms:.0f} ms[/dim]")
