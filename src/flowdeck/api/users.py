"""User administration and `whoami` (Langflow's /api/v1/users)."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import func, select

from flowdeck.api.deps import CurrentUser, ServicesDep, SessionDep, Superuser
from flowdeck.auth.secrets import hash_password
from flowdeck.db.models import User
from flowdeck.errors import ConflictError, NotFoundError, PermissionDeniedError
from flowdeck.schemas.common import Count, Id
from flowdeck.schemas.users import PasswordReset, UserCreate, UserRead, UsersPage, UserUpdate
from flowdeck.services.caches import auth_cache

router = APIRouter(prefix="/api/v1/users", tags=["Users"])


async def _get(session: SessionDep, user_id: int, caller: User) -> User:
    user = await session.get(User, user_id)
    if user is None or (user.tenant_id != caller.tenant_id and not caller.is_superuser):
        raise NotFoundError(f"user {user_id} not found", field="user_id")
    return user


async def _check_name(session: SessionDep, username: str) -> None:
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise ConflictError(f"username {username!r} is taken", field="username")


@router.post("/", response_model=UserRead, status_code=201)
async def add_user(
    body: UserCreate, caller: Superuser, session: SessionDep, services: ServicesDep
) -> User:
    await _check_name(session, body.username)
    user = User(
        username=body.username,
        password_hash=hash_password(body.password),
        is_superuser=body.is_superuser,
        is_active=body.is_active,
        tenant_id=body.tenant_id or caller.tenant_id or services.default_tenant_id,
    )
    session.add(user)
    await session.flush()
    return user


@router.get("/whoami", response_model=UserRead)
async def read_current_user(user: CurrentUser) -> User:
    return user


@router.get("/", response_model=UsersPage)
async def read_all_users(
    caller: Superuser, session: SessionDep, skip: Count = 0, limit: Count = 10
) -> UsersPage:
    stmt = select(User).where(User.tenant_id == caller.tenant_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(User.id).offset(skip).limit(limit))).scalars()
    return UsersPage(total_count=total, users=[UserRead.model_validate(u) for u in rows])


@router.patch("/{user_id}", response_model=UserRead)
async def patch_user(
    user_id: Id,
    body: UserUpdate,
    caller: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
) -> User:
    if caller.id != user_id and not caller.is_superuser:
        raise PermissionDeniedError("you may only change your own user")
    if not caller.is_superuser and (body.is_superuser or body.is_active is not None):
        raise PermissionDeniedError("only a superuser may change activity or superuser rights")
    user = await _get(session, user_id, caller)
    values = body.model_dump(exclude_unset=True)
    if "username" in values and values["username"] != user.username:
        await _check_name(session, values["username"])
    if "password" in values:
        user.password_hash = hash_password(values.pop("password"))
    for key, value in values.items():
        setattr(user, key, value)
    await _commit_and_forget(session, services, user_id)
    return user


@router.patch("/{user_id}/reset-password", response_model=UserRead)
async def reset_password(
    user_id: Id,
    body: PasswordReset,
    caller: CurrentUser,
    session: SessionDep,
    services: ServicesDep,
) -> User:
    if caller.id != user_id and not caller.is_superuser:
        raise PermissionDeniedError("you may only reset your own password")
    user = await _get(session, user_id, caller)
    user.password_hash = hash_password(body.password)
    await _commit_and_forget(session, services, user_id)
    return user


@router.delete("/{user_id}")
async def delete_user(
    user_id: Id, caller: Superuser, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    if caller.id == user_id:
        raise PermissionDeniedError("you cannot delete your own user")
    user = await _get(session, user_id, caller)
    await session.delete(user)
    await _commit_and_forget(session, services, user_id)
    return {"detail": "User deleted"}


async def _commit_and_forget(session: SessionDep, services: ServicesDep, user_id: int) -> None:
    # Committed first, so no request can cache the old row again once it is forgotten.
    await session.commit()
    auth_cache(services).forget_user(user_id)
