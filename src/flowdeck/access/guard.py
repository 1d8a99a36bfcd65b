"""The one check: every route's declared access, enforced before its body is read.

Routers are built with `route_class=GuardedRoute`. The check authenticates the caller
(cached), computes the principal in the request's tenant (cached) and looks the route's
privilege up in a set; the principal is left on the request for the route's dependencies.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Any, NoReturn

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from starlette.routing import compile_path, get_name

from flowdeck.access.catalog import Privilege
from flowdeck.access.declare import Access, access_of
from flowdeck.access.principal import Principal, principal_cache
from flowdeck.api.routing import PrefilteredRouter
from flowdeck.db.models import User
from flowdeck.errors import AuthenticationError, InvalidInputError, PermissionDeniedError

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
TENANT_HEADER = "Tenant-Id"


async def authorize(request: Request, access: Access) -> Principal:
    """The caller's principal if `access` lets them in; 401 or 403 otherwise."""
    from flowdeck.api.deps import authenticate

    services = request.app.state.services
    user = await authenticate(request, services, cookie=access.cookie)
    if user is None:
        if access.anonymous_forbidden:
            raise PermissionDeniedError("Authentication credentials were not provided.")
        if not access.cookie:
            raise AuthenticationError("run endpoints need an API key (x-api-key) or a bearer token")
        raise AuthenticationError("not authenticated")
    tenant_id = acting_tenant(request, user)
    principal = await principal_cache(services).of(user, tenant_id)
    if not principal.roles and not user.is_superuser:
        # The same answer whether the tenant exists or not: its existence is not revealed.
        raise PermissionDeniedError(
            f"you hold no role in tenant {tenant_id}", field=TENANT_HEADER, tenant_id=tenant_id
        )
    if access.priv_id is not None:
        if not principal.can(access.priv_id):
            assert access.privilege is not None
            refuse(access.privilege)
        principal = principal.acting_for(access.priv_id)
    request.state.principal = principal
    return principal


def demand(principal: Principal, privilege: Privilege) -> None:
    """For a route that acts on the caller alone unless told otherwise (a user changing
    their own profile, or an administrator another's): the privilege the other case needs."""
    if not principal.can(privilege.priv_id):
        refuse(privilege)


def refuse(privilege: Privilege) -> NoReturn:
    raise PermissionDeniedError(
        f"this needs the {privilege.op} privilege on {privilege.module}",
        module=str(privilege.module),
        operation=str(privilege.op),
    )


def acting_tenant(request: Request, user: User) -> str:
    """The tenant a request acts in: the Tenant-Id header (or query parameter), else the API
    key's tenant, else the user's default tenant. An API key acts only in the tenant it was
    created in: naming another is 403, so a leaked key reaches no other tenant of its user."""
    # Read from the scope's state dict: `getattr(request.state, ...)` raises and catches an
    # AttributeError for every request made without a key.
    key_tenant: str | None = request.scope.get("state", {}).get("key_tenant")
    named = request.headers.get("tenant-id") or request.query_params.get(TENANT_HEADER)
    if not named:
        return key_tenant or user.tenant_id
    try:
        tenant = str(uuid.UUID(named))
    except ValueError:
        raise InvalidInputError(
            f"{TENANT_HEADER} must be a tenant's uuid", field=TENANT_HEADER
        ) from None
    if key_tenant is not None and tenant != key_tenant:
        raise PermissionDeniedError(
            f"this API key acts only in tenant {key_tenant}, where it was created",
            field=TENANT_HEADER,
        )
    return tenant


class GuardedRoute(APIRoute):
    """An APIRoute that enforces its endpoint's access declaration first.

    It is built in two steps. At registration it holds what matching a request needs (path,
    methods, name); FastAPI's analysis of the endpoint (its dependencies and the pydantic
    fields of its parameters, body and response: a few milliseconds a route, most of the
    start-up) runs when anything else is first asked of it, which the first request to its
    router or the OpenAPI document does.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        self._pending: tuple[str, Callable[..., Any], dict[str, Any]] | None = (
            path,
            endpoint,
            kwargs,
        )
        self.path = path
        self.endpoint = endpoint
        name = kwargs.get("name")
        self.name = get_name(endpoint) if name is None else name
        self.methods = {m.upper() for m in kwargs.get("methods") or ["GET"]}
        self.include_in_schema = kwargs.get("include_in_schema", True)
        self.path_regex, self.path_format, self.param_convertors = compile_path(path)

    def __getattr__(self, name: str) -> Any:
        # Only called for an attribute not set yet: the rest of the route, built once.
        pending = self.__dict__.get("_pending")
        if pending is None:
            raise AttributeError(name)
        self._pending = None
        path, endpoint, kwargs = pending
        super().__init__(path, endpoint, **kwargs)
        return getattr(self, name)

    def get_route_handler(self) -> Handler:
        handler: Handler = super().get_route_handler()
        access = access_of(self.endpoint)
        if access is not None and access.kind == "public":
            return handler
        path = self.path

        async def guarded(request: Request) -> Response:
            if access is None:  # fail closed; the route-policy test names such a route
                raise PermissionDeniedError(f"route {path} declares no access rule")
            await authorize(request, access)
            return await handler(request)

        return guarded


def guarded_router(**kwargs: Any) -> APIRouter:
    """An APIRouter whose every route enforces its access declaration."""
    return PrefilteredRouter(route_class=GuardedRoute, **kwargs)
