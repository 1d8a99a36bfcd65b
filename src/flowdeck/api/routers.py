"""Every router the app serves, in one list (add new resource modules here)."""

from __future__ import annotations

from fastapi import APIRouter

from flowdeck.api import (
    api_keys,
    build,
    flow_versions,
    flows,
    login,
    projects,
    run,
    runs,
    system,
    users,
)

ROUTERS: list[APIRouter] = [
    system.router,
    login.router,
    users.router,
    api_keys.router,
    build.router,
    run.router,
    runs.router,
    flows.router,
    flow_versions.router,
    projects.router,
    projects.folders_router,
]
