"""Health, version and public configuration."""

from __future__ import annotations

from typing import Any

from flowdeck import __version__
from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ServicesDep
from flowdeck.api.responses import JSON

router = guarded_router(tags=["Health"])


@router.get("/health")
@public
async def health() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/health_check")
@public
async def health_check(services: ServicesDep) -> JSON:
    """Checks the database and the worker pool; 500 when either fails."""
    db = "ok"
    try:
        await services.db.ping()
    except Exception as exc:  # any database failure is the check's answer, not a crash
        db = f"error: {exc}"
    chat = "ok" if services.queue.alive else "error: the worker pool is not running"
    body = {"status": "ok" if db == chat == "ok" else "error", "chat": chat, "db": db}
    return JSON(body, status_code=200 if body["status"] == "ok" else 500)


@router.get("/api/v1/version")
@public
async def get_version() -> dict[str, str]:
    return {"version": __version__, "main_version": __version__, "package": "flowdeck"}


@router.get("/api/v1/config")
@public
async def get_config(services: ServicesDep) -> dict[str, Any]:
    s = services.settings
    return {
        "auto_login": s.auto_login,
        "max_concurrent_runs": s.max_concurrent_runs,
        "allow_custom_code": s.allow_custom_code,
        "max_file_size_upload": s.max_body_bytes // (1024 * 1024),
        "event_delivery": "streaming",
        "webhook_polling_interval": 5000,
        "public_flows": s.public_flows,
    }
