"""Login, token refresh, logout and auto-login (Langflow's paths)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ACCESS_COOKIE, REFRESH_COOKIE, ServicesDep, SessionDep
from flowdeck.auth.secrets import decode_token, encode_token, verify_password
from flowdeck.db.models import User
from flowdeck.errors import AuthenticationError, PermissionDeniedError
from flowdeck.schemas.users import Token
from flowdeck.services.container import Services

router = guarded_router(prefix="/api/v1", tags=["Login"])


def issue_tokens(services: Services, user: User, response: Response) -> Token:
    s = services.settings
    access = encode_token(services.signing_key, user.id, "access", s.access_token_expire_minutes)
    refresh = encode_token(services.signing_key, user.id, "refresh", s.refresh_token_expire_minutes)
    response.set_cookie(
        ACCESS_COOKIE,
        access,
        httponly=False,
        samesite="lax",
        max_age=s.access_token_expire_minutes * 60,
    )
    response.set_cookie(
        REFRESH_COOKIE,
        refresh,
        httponly=True,
        samesite="lax",
        max_age=s.refresh_token_expire_minutes * 60,
    )
    return Token(access_token=access, refresh_token=refresh)


@router.post("/login", response_model=Token)
@public
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    response: Response,
    services: ServicesDep,
    session: SessionDep,
) -> Token:
    user = (
        await session.execute(select(User).where(User.username == form.username))
    ).scalar_one_or_none()
    if user is None or not verify_password(form.password, user.password_hash):
        raise AuthenticationError("incorrect username or password")
    if not user.is_active:
        raise PermissionDeniedError("this user is inactive")
    user.last_login_at = datetime.now(UTC)
    return issue_tokens(services, user, response)


@router.get("/auto_login", response_model=Token)
@public
async def auto_login(response: Response, services: ServicesDep, session: SessionDep) -> Token:
    if not services.settings.auto_login:
        raise AuthenticationError("auto-login is disabled; set FLOWDECK_AUTO_LOGIN=true")
    user = (
        await session.execute(select(User).where(User.username == services.settings.superuser))
    ).scalar_one_or_none()
    if user is None:
        raise AuthenticationError("the auto-login user does not exist")
    return issue_tokens(services, user, response)


@router.post("/refresh", response_model=Token)
@public
async def refresh(
    request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> Token:
    try:
        body = await request.json()
    except ValueError:
        body = {}
    token = body.get("refresh_token") if isinstance(body, dict) else None
    token = token or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise AuthenticationError("no refresh token (cookie or body 'refresh_token')")
    user = await session.get(User, decode_token(services.signing_key, token, "refresh"))
    if user is None or not user.is_active:
        raise AuthenticationError("user not found or inactive")
    return issue_tokens(services, user, response)


@router.post("/logout")
@public
async def logout(response: Response) -> dict[str, str]:
    response.delete_cookie(ACCESS_COOKIE)
    response.delete_cookie(REFRESH_COOKIE)
    return {"message": "Logout successful"}
