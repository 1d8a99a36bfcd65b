"""The OpenAPI document, completed so it says everything a route can answer.

A route declares (with `responses=`) only what no rule here can see; every error status it
declares gets flowdeck's error body too.

FastAPI documents a route's success and its 422 (as its own HTTPValidationError, which is
not the body flowdeck sends). Here, once, for every route: the error statuses it can give
(from what it depends on and takes) with flowdeck's error body, and the media types of the
routes that answer with something other than JSON (zip, event streams, NDJSON, files).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts
from starlette.routing import BaseRoute

from flowdeck.access.declare import access_of

JSON = "application/json"
SSE = "text/event-stream"
NDJSON = "application/x-ndjson"
ZIP = "application/zip"
ANY = "*/*"  # a stored file, served with its own media type

# flowdeck's error body (see api/errors.py): `detail` is the message, or the list of
# validation errors of a 422; domain errors add their own details beside `field`.
ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["detail", "request_id"],
    "properties": {
        "detail": {"title": "Detail", "description": "The message, or a 422's errors"},
        "code": {"title": "Code", "type": "string"},
        "message": {"title": "Message", "type": "string"},
        "field": {"title": "Field", "type": "string"},
        "request_id": {"title": "Request Id", "type": "string"},
    },
}
ERROR_REF = {"$ref": "#/components/schemas/Error"}

REASONS = {
    400: "Bad input (the `field` names it)",
    401: "Not authenticated",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Request body too large",
    422: "Invalid request (the errors name each field)",
    500: "A check failed",
}

# The 200 media types of routes that do not (only) answer JSON, by (method, path).
MEDIA: dict[tuple[str, str], tuple[str, ...]] = {
    ("POST", "/api/v1/run/{flow_id_or_name}"): (JSON, SSE),
    ("POST", "/api/v1/build/{flow_id}/flow"): (JSON, NDJSON),
    ("GET", "/api/v1/build/{job_id}/events"): (NDJSON,),
    ("POST", "/api/v1/build_public_tmp/{flow_id}/flow"): (JSON, NDJSON),
    ("GET", "/api/v1/build_public_tmp/{job_id}/events"): (NDJSON,),
    ("POST", "/api/v1/flows/download/"): (JSON, ZIP),
    ("GET", "/api/v1/projects/download/{project_id}"): (ZIP,),
    ("GET", "/api/v1/files/download/{flow_id}/{file_name}"): (ANY,),
    ("GET", "/api/v1/files/images/{flow_id}/{file_name}"): ("image/*",),
    ("GET", "/api/v1/files/profile_pictures/{folder_name}/{file_name}"): ("image/*",),
    ("POST", "/api/v2/files/batch/"): ("application/x-zip-compressed",),
    ("GET", "/api/v2/files/{file_id}"): (JSON, ANY),
    ("POST", "/api/v2/workflows"): (JSON, SSE),
    ("POST", "/api/v1/responses"): (JSON, SSE),
    ("GET", "/logs-stream"): (SSE,),
    ("GET", "/api/v1/runs/events"): (SSE,),
    ("GET", "/metrics"): ("text/plain",),
}

# Statuses that the rules below cannot see, by (method, path).
STATUSES: dict[tuple[str, str], tuple[int, ...]] = {
    ("GET", "/api/v1/flows/public_flow/{flow_id}"): (403,),  # not PUBLIC, or public flows off
    ("POST", "/api/v1/build_public_tmp/{flow_id}/flow"): (403,),  # no cookie; public flows off
    ("GET", "/api/v1/build_public_tmp/{flow_id}/messages"): (403,),  # public flows off
    ("POST", "/api/v1/login"): (401, 403),  # wrong password; an inactive user
    ("GET", "/api/v1/auto_login"): (401,),  # auto-login disabled
    ("POST", "/api/v1/refresh"): (401,),
    ("GET", "/health_check"): (500,),
    ("POST", "/api/v2/workflows"): (202,),  # a sync run still going after the wait
}

# Query parameters a route reads as optional so that a missing one answers the seed's 400
# naming it (FastAPI's own check would answer 422): required all the same.
REQUIRED_QUERY: dict[tuple[str, str], dict[str, dict[str, Any]]] = {
    ("GET", "/api/v2/workflows"): {"job_id": {"type": "string", "format": "uuid"}},
}


def install(app: FastAPI) -> None:
    """Serve the completed document as the app's OpenAPI (FastAPI builds it once per set
    of routes; it is completed once each time)."""
    plain = app.openapi
    completed: list[int] = []

    def openapi() -> dict[str, Any]:
        doc = plain()
        if completed != [id(doc)]:
            completed[:] = [id(complete(doc, app.routes))]
        return doc

    app.openapi = openapi  # type: ignore[method-assign]


def complete(doc: dict[str, Any], routes: Sequence[BaseRoute]) -> dict[str, Any]:
    """`doc` with every route's error statuses and media types; refuses stale tables."""
    seen: set[tuple[str, str]] = set()
    for route in iter_route_contexts(routes):
        path = route.path_format
        if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
            continue
        for method in route.methods or ():
            op = doc["paths"].get(path, {}).get(method.lower())
            if op is None or path is None:
                continue
            key = (method, path)
            seen.add(key)
            responses = op.setdefault("responses", {})
            declared = {int(code) for code in responses if code.isdigit() and code >= "400"}
            found = {*statuses(route, method, op), *STATUSES.get(key, ()), *declared}
            for status in sorted(found):
                _document(responses, status)
            if key in MEDIA:
                _media(responses, MEDIA[key])
            required = REQUIRED_QUERY.get(key, {})
            for param in op.get("parameters", ()):
                if param["in"] == "query" and param["name"] in required:
                    param["required"] = True
                    param["schema"] = required[param["name"]]
    stale = (set(MEDIA) | set(STATUSES) | set(REQUIRED_QUERY)) - seen
    if stale:
        raise RuntimeError(f"OpenAPI tables name routes that do not exist: {sorted(stale)}")
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    _forms_need_values(doc)
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def statuses(route: RouteContext, method: str, op: dict[str, Any]) -> set[int]:
    """The error statuses a route can answer, from what it takes and whom it needs."""
    # Every route but a public one checks its caller first (flowdeck.access.guard).
    access = access_of(route.endpoint)
    identified = access is None or access.kind != "public"
    takes_input = bool(op.get("parameters") or op.get("requestBody"))
    found: set[int] = set()
    if takes_input:
        found |= {400, 422}
    if "requestBody" in op:
        found.add(413)
    if "{" in (route.path_format or ""):  # names something that may not exist (or not be yours)
        found.add(404)
    if identified:  # bad credentials (401); a caller without the right (403)
        found |= {401, 403}
        if takes_input:  # a body or query naming something the caller does not have
            found.add(404)
        if method != "GET":  # a write that conflicts with what is stored
            found.add(409)
    return found


def _forms_need_values(doc: dict[str, Any]) -> None:
    """What a form can carry: a required text field needs a value (FastAPI reads an empty
    one as missing), and no field can be null (leaving it out is its null)."""
    schemas = doc["components"]["schemas"]
    for path in doc["paths"].values():
        for op in path.values():
            content = op.get("requestBody", {}).get("content", {})
            for media in ("application/x-www-form-urlencoded", "multipart/form-data"):
                ref = content.get(media, {}).get("schema", {}).get("$ref", "")
                form = schemas.get(ref.rsplit("/", 1)[-1], {})
                for field in form.get("properties", {}).values():
                    options = field.get("anyOf", ())
                    if {"type": "null"} in options and len(options) == 2:
                        field.update(next(o for o in options if o != {"type": "null"}))
                        del field["anyOf"]
                for name in form.get("required", ()):
                    field = form["properties"][name]
                    if field.get("type") == "string" and "contentMediaType" not in field:
                        field.setdefault("minLength", 1)  # not files: an empty one is a file


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    """`openapi_extra` for a route that reads its JSON body itself (FastAPI cannot see it)."""
    return {"requestBody": {"required": True, "content": {JSON: {"schema": schema}}}}


def component(name: str) -> dict[str, Any]:
    """A reference to a schema that other routes already put in the document."""
    return {"$ref": f"#/components/schemas/{name}"}


def _document(responses: dict[str, Any], status: int) -> None:
    if 200 <= status < 300:
        responses.setdefault(str(status), {"description": "Accepted"})
        return
    entry = responses.setdefault(str(status), {"description": REASONS.get(status, "Error")})
    entry["content"] = {JSON: {"schema": ERROR_REF}}


def _media(responses: dict[str, Any], types: tuple[str, ...]) -> None:
    """The success response's media types: JSON keeps its schema; the others are bytes."""
    ok = next(code for code in responses if code.startswith("2"))
    content = responses[ok].setdefault("content", {})
    json_schema = content.pop(JSON, None)
    for media in types:
        if media == JSON:
            content[JSON] = json_schema or {"schema": {}}
        else:
            content[media] = {"schema": {"type": "string", "format": "binary"}}
