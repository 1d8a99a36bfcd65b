"""Request dependencies: the services, a database session, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.access.principal import Principal
from flowdeck.auth.secrets import API_KEY_PREFIX, hash_api_key
from flowdeck.db.models import User
from flowdeck.db.repositories.base import Scope
from flowdeck.errors import AuthenticationError
from flowdeck.services.caches import auth_cache
from flowdeck.services.container import Services

ACCESS_COOKIE = "access_token_lf"
REFRESH_COOKIE = "refresh_token_lf"


async def get_services(request: Request) -> Services:
    # async: a plain def would make FastAPI run it in a thread pool, on every request.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    # The connection is taken at the first statement only, so requests that never touch
    # the database (the cached caller is enough) never hold one.
    async with services.db.session() as session:
        yield session


# "function" scope: the transaction commits before the response is sent, so a client that
# got its answer reads what it wrote from any process, and a failed commit is its error.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


def bearer_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    return (auth[7:].strip() or None) if auth[:7].lower() == "bearer " else None


async def authenticate(request: Request, services: Services, cookie: bool = True) -> User | None:
    """The caller from a bearer token, the access cookie (if `cookie`), or an API key; None
    if none given.

    An API key may come as `x-api-key` (header or query) or as the bearer value (OpenAI's
    clients send their key so): keys carry the `sk-` prefix, so telling them from tokens
    costs no lookup. An `x-api-key` wins over a bearer value that is not a valid token
    (Langflow documents `api_key="dummy"` with the key in `x-api-key`).
    """
    cache = auth_cache(services)
    token = bearer_token(request)
    if not token and cookie:
        token = request.cookies.get(ACCESS_COOKIE)
    key = request.headers.get("x-api-key") or request.query_params.get("x-api-key")
    if token and token.startswith(API_KEY_PREFIX):
        key, token = key or token, None
    if token:
        try:
            return await _token_user(services, token)
        except AuthenticationError:
            if not key:
                raise
    if key:
        return await _key_user(request, services, key)
    if services.settings.auto_login:
        return await cache.user_named(services.settings.superuser)
    return None


async def _token_user(services: Services, token: str) -> User:
    cache = auth_cache(services)
    claims = cache.token_claims(services.signing_key, token)
    user = await cache.user(claims.user_id)
    if user is None:
        raise AuthenticationError("user not found or inactive")
    if user.token_version != claims.version:
        raise AuthenticationError("token has been revoked (logout or password change)")
    return user


async def _key_user(request: Request, services: Services, key: str) -> User:
    cache = auth_cache(services)
    found = await cache.api_key_user(hash_api_key(key))
    if found is None:
        raise AuthenticationError("invalid API key")
    user = await cache.user(found[1])
    if user is None:
        raise AuthenticationError("the API key's user is inactive")
    # A key acts for its user in the tenant it was created in.
    request.state.key_tenant = found[2]
    return user


# The caller dependencies take the request alone: every sub-dependency FastAPI solves
# costs more per request than the cached lookup itself.
async def optional_user(request: Request) -> User | None:
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal.user
    return await authenticate(request, request.app.state.services)


async def current_user(request: Request) -> User:
    # The route's access check (flowdeck.access.guard) already found the caller.
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is not None:
        return principal.user
    user = await authenticate(request, request.app.state.services)
    if user is None:
        raise AuthenticationError("not authenticated")
    return user


async def current_principal(request: Request) -> Principal:
    """The caller's principal in the request's tenant (set by the route's access check)."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthenticationError("not authenticated")
    return principal


async def run_caller(request: Request) -> User:
    """The caller of a run endpoint, which its access declaration (`cookie=False`) found
    from an API key or a bearer token, as Langflow asks."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        raise AuthenticationError("run endpoints need an API key (x-api-key) or a bearer token")
    return principal.user


OptionalUser = Annotated[User | None, Depends(optional_user)]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
CurrentUser = Annotated[User, Depends(current_user)]
RunCaller = Annotated[User, Depends(run_caller)]


async def current_scope(principal: PrincipalDep) -> Scope:
    """What the caller may see in the tenant the request acts in."""
    return principal.scope


ScopeDep = Annotated[Scope, Depends(current_scope)]
