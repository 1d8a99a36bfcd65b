"""Every router the app serves, in one list (add new resource modules here)."""

from __future__ import annotations

from fastapi import APIRouter

from flowdeck.api import (
    api_keys,
    build,
    businesses,
    components,
    configs,
    console,
    docs,
    files,
    files_v2,
    flow_templates,
    flow_versions,
    flows,
    login,
    logs,
    mcp,
    mcp_servers,
    metrics,
    models,
    monitor,
    orgs,
    people_search,
    permissions,
    projects,
    responses_api,
    run,
    runs,
    system,
    tenants,
    users,
    workflows,
)
from flowdeck.api.dialects import control, executions, flow_runs, inspector

# Routes are matched in order: the hot paths (runs and builds) come first.
ROUTERS: list[APIRouter] = [
    run.router,
    build.router,
    mcp.router,  # a tool call is a run too
    system.router,
    login.router,
    users.router,
    tenants.router,
    businesses.router,
    permissions.router,
    configs.router,
    configs.dictionary_router,
    people_search.router,  # before orgs.router: its /orgs/{org_id} would take these paths
    orgs.router,
    models.router,
    mcp_servers.router,
    api_keys.router,
    runs.router,
    flows.router,
    flow_templates.router,
    components.router,
    flow_versions.router,
    projects.router,
    projects.folders_router,
    monitor.router,
    files.router,
    files_v2.router,
    control.router,
    inspector.router,
    flow_runs.router,
    executions.router,
    workflows.router,
    responses_api.router,
    logs.router,
    metrics.router,
    docs.router,
    console.router,
]
