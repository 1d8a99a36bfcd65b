"""The control dialect at the server root: flows as configurations, their status, commands.

A `flow_id` in these paths is a flow's id, slug or endpoint name.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ScopeDep, ServicesDep, SessionDep
from flowdeck.api.openapi import component, json_body
from flowdeck.api.paths import both
from flowdeck.errors import InvalidInputError
from flowdeck.schemas.control import (
    HARD_STOP,
    SOFT_STOP,
    Command,
    CommandResult,
    FlowCommand,
    FlowStatus,
)
from flowdeck.services.deployment import DeploymentService, parse

router = guarded_router(tags=["Control"])


def deployment(services: ServicesDep, session: SessionDep, scope: ScopeDep) -> DeploymentService:
    return DeploymentService(services, session, scope)


DeploymentDep = Annotated[DeploymentService, Depends(deployment)]


async def read_json(request: Request) -> Any:
    """The request body as JSON; the seed answers a malformed body with 400 (not 422)."""
    raw = await request.body()
    if not raw.strip():
        raise InvalidInputError("the request needs a JSON body", field="body")
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"the body is not valid JSON: {exc}", field="body") from exc


JsonBody = Annotated[Any, Depends(read_json)]
# What the routes read, for the OpenAPI document (the seed's shapes).
NEW_CONFIGURATIONS = json_body({"type": "array", "minItems": 1, "items": component("FlowCreate")})
CONFIGURATION = json_body(component("FlowUpdate"))
COMMAND = json_body(
    {
        "type": "object",
        "required": ["command"],
        "properties": {
            "command": {"type": "string", "enum": [c.value for c in Command]},
            "flow_ids": {
                "anyOf": [
                    {"type": "array", "minItems": 1, "items": {"type": "string"}},
                    {"type": "null"},
                ]
            },
            "type": {"enum": [SOFT_STOP, HARD_STOP, None]},
        },
    }
)


# Fixed paths first: `/flows/{flow_id}` would otherwise take them.
@both(router, "GET", "/flows/status")
@requires(Module.FLOWS, Op.READ)
async def get_flows_status(flows: DeploymentDep) -> dict[str, FlowStatus]:
    """The deployment status of every flow of the caller, by flow id."""
    return await flows.statuses()


@both(router, "GET", "/flows/status/{flow_id}")
@requires(Module.FLOWS, Op.READ)
async def get_flow_status(flow_id: str, flows: DeploymentDep) -> FlowStatus:
    return await flows.status(flow_id)


@both(router, "PATCH", "/flows/commands", openapi_extra=COMMAND)
@requires(Module.FLOWS, Op.MODIFY)
async def command_flows(body: JsonBody, flows: DeploymentDep) -> CommandResult:
    """start, stop (type 0 soft, 1 hard), pause or resume the listed flows (or all of them)."""
    return await flows.command(parse(FlowCommand, body, ""))


@both(router, "GET", "/flows")
@requires(Module.FLOWS, Op.READ)
async def get_configurations(flows: DeploymentDep) -> list[dict[str, Any]]:
    return await flows.configurations()


@both(router, "POST", "/flows", status_code=201, openapi_extra=NEW_CONFIGURATIONS)
@requires(Module.FLOWS, Op.WRITE)
async def add_configurations(body: JsonBody, flows: DeploymentDep) -> list[dict[str, Any]]:
    """Add configurations from a JSON array (400 for anything else); all or none."""
    return await flows.create(body)


@both(router, "GET", "/flows/{flow_id}")
@requires(Module.FLOWS, Op.READ)
async def get_configuration(flow_id: str, flows: DeploymentDep) -> dict[str, Any]:
    return await flows.get(flow_id)


@both(router, "PUT", "/flows/{flow_id}", openapi_extra=CONFIGURATION)
@requires(Module.FLOWS, Op.MODIFY)
async def update_configuration(
    flow_id: str, body: JsonBody, flows: DeploymentDep
) -> dict[str, Any]:
    """Update a configuration; its extra fields are replaced by the ones sent."""
    return await flows.update(flow_id, body, merge=False)


@both(router, "PATCH", "/flows/{flow_id}", openapi_extra=CONFIGURATION)
@requires(Module.FLOWS, Op.MODIFY)
async def patch_configuration(flow_id: str, body: JsonBody, flows: DeploymentDep) -> dict[str, Any]:
    """Update some fields of a configuration; extra fields are merged (null removes one)."""
    return await flows.update(flow_id, body, merge=True)


@both(router, "DELETE", "/flows/{flow_id}")
@requires(Module.FLOWS, Op.DELETE)
async def delete_configuration(flow_id: str, flows: DeploymentDep) -> dict[str, Any]:
    """Delete a configuration; an unknown flow_id is 400, as the seed says."""
    return await flows.delete(flow_id)
