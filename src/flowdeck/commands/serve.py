"""`flowdeck serve`: the HTTP server (uvicorn); settings and dependencies checked first."""

from __future__ import annotations

import os
import sys

from flowdeck import heap


def serve_command(host: str | None, port: int | None, workers: int | None) -> int:
    """Start the server; a bad setting stops it here with a message naming the setting."""
    # No garbage collection while start-up builds what lives as long as the process (about
    # a fifth of the start-up time); the app settles the heap once it is up (flowdeck.heap).
    heap.hold()
    from flowdeck.settings import SettingsError, load_settings

    overrides = {"host": host, "port": port, "workers": workers}
    for name, value in overrides.items():
        if value is not None:
            os.environ[f"FLOWDECK_{name.upper()}"] = str(value)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"flowdeck: {exc.message}", file=sys.stderr)
        return 2
    from flowdeck.commands.preflight import PreflightError, banner, preflight

    try:
        preflight(settings)
    except PreflightError as exc:
        print(f"flowdeck: {exc.message}", file=sys.stderr)
        return 1
    sys.stdout.write(banner(settings))
    sys.stdout.flush()
    import uvicorn

    if settings.workers > 1:
        # This process only supervises; each API process is a fresh one with its own start.
        heap.release()
    uvicorn.run(
        "flowdeck.api.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
    )
    return 0
