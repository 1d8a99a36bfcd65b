"""Request dependencies: the services, a database session, and who is calling."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.auth.secrets import decode_token, hash_api_key
from flowdeck.db.models import ApiKey, User
from flowdeck.db.repositories.base import Scope
from flowdeck.errors import AuthenticationError, PermissionDeniedError
from flowdeck.services.container import Services

ACCESS_COOKIE = "access_token_lf"
REFRESH_COOKIE = "refresh_token_lf"


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_session(services: ServicesDep) -> AsyncIterator[AsyncSession]:
    async with services.db.session() as session:
        yield session


SessionDep = Annotated[AsyncSession, Depends(get_session)]


async def _user_by_id(session: AsyncSession, user_id: int) -> User | None:
    user = await session.get(User, user_id)
    return user if user is not None and user.is_active else None


async def authenticate(request: Request, services: Services, session: AsyncSession) -> User | None:
    """The caller from a bearer token, the access cookie, or an API key; None if none given."""
    auth = request.headers.get("authorization", "")
    token = auth[7:].strip() if auth[:7].lower() == "bearer " else None
    token = token or request.cookies.get(ACCESS_COOKIE)
    if token:
        user = await _user_by_id(session, decode_token(services.signing_key, token, "access"))
        if user is None:
            raise AuthenticationError("user not found or inactive")
        return user
    key = request.headers.get("x-api-key") or request.query_params.get("x-api-key")
    if key:
        row = (
            await session.execute(
                select(ApiKey).where(ApiKey.key_hash == hash_api_key(key), ApiKey.is_active)
            )
        ).scalar_one_or_none()
        if row is None:
            raise AuthenticationError("invalid API key")
        await session.execute(
            update(ApiKey)
            .where(ApiKey.id == row.id)
            .values(total_uses=ApiKey.total_uses + 1, last_used_at=datetime.now(UTC))
        )
        user = await _user_by_id(session, row.user_id)
        if user is None:
            raise AuthenticationError("the API key's user is inactive")
        return user
    if services.settings.auto_login:
        return (
            await session.execute(select(User).where(User.username == services.settings.superuser))
        ).scalar_one_or_none()
    return None


async def optional_user(
    request: Request, services: ServicesDep, session: SessionDep
) -> User | None:
    return await authenticate(request, services, session)


async def current_user(user: Annotated[User | None, Depends(optional_user)]) -> User:
    if user is None:
        raise AuthenticationError("not authenticated")
    return user


async def superuser(user: Annotated[User, Depends(current_user)]) -> User:
    if not user.is_superuser:
        raise PermissionDeniedError("this needs a superuser")
    return user


OptionalUser = Annotated[User | None, Depends(optional_user)]
CurrentUser = Annotated[User, Depends(current_user)]
Superuser = Annotated[User, Depends(superuser)]


def scope_of(user: User) -> Scope:
    return Scope(user.tenant_id, user.id, user.is_superuser)


async def current_scope(user: CurrentUser) -> Scope:
    return scope_of(user)


ScopeDep = Annotated[Scope, Depends(current_scope)]
