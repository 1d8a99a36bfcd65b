"""Login, token refresh, logout and auto-login (Langflow's paths)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request, Response
from fastapi.security import OAuth2PasswordRequestForm
from sqlalchemy import select

from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import (
    ACCESS_COOKIE,
    REFRESH_COOKIE,
    ServicesDep,
    SessionDep,
    bearer_token,
)
from flowdeck.auth.secrets import TokenClaims, decode_token, encode_token
from flowdeck.db.models import User
from flowdeck.errors import AuthenticationError
from flowdeck.schemas.users import Token
from flowdeck.services import accounts
from flowdeck.services.container import Services

router = guarded_router(prefix="/api/v1", tags=["Login"])


def _cookie_options(request: Request) -> dict[str, Any]:
    # Secure over HTTPS: behind a proxy, uvicorn takes the scheme from X-Forwarded-Proto when
    # the proxy is trusted (--forwarded-allow-ips), and request.url reflects it.
    return {"httponly": True, "samesite": "lax", "secure": request.url.scheme == "https"}


def issue_tokens(services: Services, user: User, request: Request, response: Response) -> Token:
    s = services.settings
    key, version = services.signing_key, user.token_version
    access = encode_token(key, user.id, "access", s.access_token_expire_minutes, version)
    refresh = encode_token(key, user.id, "refresh", s.refresh_token_expire_minutes, version)
    options = _cookie_options(request)
    response.set_cookie(
        ACCESS_COOKIE, access, max_age=s.access_token_expire_minutes * 60, **options
    )
    response.set_cookie(
        REFRESH_COOKIE, refresh, max_age=s.refresh_token_expire_minutes * 60, **options
    )
    return Token(access_token=access, refresh_token=refresh)


@router.post("/login", response_model=Token)
@public
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    response: Response,
    services: ServicesDep,
    session: SessionDep,
) -> Token:
    address = request.client.host if request.client else ""
    user = await accounts.password_login(services, session, form.username, form.password, address)
    return issue_tokens(services, user, request, response)


@router.get("/auto_login", response_model=Token)
@public
async def auto_login(
    request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> Token:
    if not services.settings.auto_login:
        raise AuthenticationError("auto-login is disabled; set FLOWDECK_AUTO_LOGIN=true")
    user = (
        await session.execute(select(User).where(User.username == services.settings.superuser))
    ).scalar_one_or_none()
    if user is None:
        raise AuthenticationError("the auto-login user does not exist")
    return issue_tokens(services, user, request, response)


async def _body_refresh_token(request: Request) -> str | None:
    try:
        body = await request.json()
    except ValueError:
        return None
    token = body.get("refresh_token") if isinstance(body, dict) else None
    return token if isinstance(token, str) else None


@router.post("/refresh", response_model=Token)
@public
async def refresh(
    request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> Token:
    token = await _body_refresh_token(request) or request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise AuthenticationError("no refresh token (cookie or body 'refresh_token')")
    claims = decode_token(services.signing_key, token, "refresh")
    user = await accounts.refreshing_user(session, claims)
    return issue_tokens(services, user, request, response)


async def _presented_claims(request: Request, services: Services) -> TokenClaims | None:
    """The claims of the first valid token the request carries, of either kind."""
    candidates = [
        (bearer_token(request), "access"),
        (request.cookies.get(ACCESS_COOKIE), "access"),
        (request.cookies.get(REFRESH_COOKIE), "refresh"),
        (await _body_refresh_token(request), "refresh"),
    ]
    for token, kind in candidates:
        if token:
            try:
                return decode_token(services.signing_key, token, kind)
            except AuthenticationError:
                continue
    return None


@router.post("/logout")
@public
async def logout(
    request: Request, response: Response, services: ServicesDep, session: SessionDep
) -> dict[str, str]:
    """Revoke the caller's access and refresh tokens (all of them) and clear the cookies."""
    claims = await _presented_claims(request, services)
    if claims is not None:
        await accounts.logout(services, session, claims)
    options = _cookie_options(request)
    response.delete_cookie(ACCESS_COOKIE, **options)
    response.delete_cookie(REFRESH_COOKIE, **options)
    return {"message": "Logout successful"}
