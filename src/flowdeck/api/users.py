"""User administration and `whoami` (Langflow's /api/v1/users)."""

from __future__ import annotations

from sqlalchemy import func, select

from flowdeck.access.catalog import DEVELOPER, TENANT_ADMIN, Module, Op
from flowdeck.access.declare import requires, signed_in
from flowdeck.access.guard import guarded_router
from flowdeck.access.seed import bind_role
from flowdeck.api.deps import CurrentUser, ServicesDep, SessionDep, Superuser
from flowdeck.auth.secrets import hash_password
from flowdeck.db.models import User
from flowdeck.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    UnprocessableError,
)
from flowdeck.schemas.common import Count, Id
from flowdeck.schemas.users import PasswordReset, UserCreate, UserRead, UsersPage, UserUpdate
from flowdeck.services.accounts import commit_and_announce, require_valid_password, revoke_tokens

router = guarded_router(prefix="/api/v1/users", tags=["Users"])


async def _get(session: SessionDep, user_id: int, caller: User) -> User:
    user = await session.get(User, user_id)
    if user is None or (user.tenant_id != caller.tenant_id and not caller.is_superuser):
        raise NotFoundError(f"user {user_id} not found", field="user_id")
    return user


async def _check_name(session: SessionDep, username: str) -> None:
    if (await session.execute(select(User.id).where(User.username == username))).first():
        raise ConflictError(f"username {username!r} is taken", field="username")


@router.post("/", response_model=UserRead, status_code=201)
@requires(Module.USERS, Op.WRITE)
async def add_user(
    body: UserCreate, caller: Superuser, session: SessionDep, services: ServicesDep
) -> User:
    require_valid_password(services.settings, body.password, body.username)
    await _check_name(session, body.username)
    user = User(
        username=body.username,
        password_hash=hash_password(body.password),
        is_superuser=body.is_superuser,
        is_active=body.is_active,
        tenant_id=str(body.tenant_id) if body.tenant_id else caller.tenant_id,
    )
    session.add(user)
    await session.flush()
    role = TENANT_ADMIN if user.is_superuser else DEVELOPER
    await bind_role(session, user.tenant_id, user.id, role)
    return user


@router.get("/whoami", response_model=UserRead)
@signed_in
async def read_current_user(user: CurrentUser) -> User:
    return user


@router.get("/", response_model=UsersPage)
@requires(Module.USERS, Op.READ)
async def read_all_users(
    caller: Superuser, session: SessionDep, skip: Count = 0, limit: Count = 10
) -> UsersPage:
    stmt = select(User).where(User.tenant_id == caller.tenant_id)
    total = (await session.execute(select(func.count()).select_from(stmt.subquery()))).scalar_one()
    rows = (await session.execute(stmt.order_by(User.id).offset(skip).limit(limit))).scalars()
    return UsersPage(total_count=total, users=[UserRead.model_validate(u) for u in rows])


@router.patch("/{user_id}", response_model=UserRead)
@signed_in
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
    for required in ("password", "username"):
        if required in values and values[required] is None:
            raise UnprocessableError(
                f"{required} cannot be null", field=required, constraint="not_null"
            )
    if "username" in values and values["username"] != user.username:
        await _check_name(session, values["username"])
    if "password" in values:
        password = values.pop("password")
        require_valid_password(services.settings, password, values.get("username", user.username))
        user.password_hash = hash_password(password)
        revoke_tokens(user)
    for key, value in values.items():
        setattr(user, key, value)
    await commit_and_announce(services, session, user_id)
    return user


@router.patch("/{user_id}/reset-password", response_model=UserRead)
@signed_in  # a user resets their own password; superusers anyone's (checked below)
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
    require_valid_password(services.settings, body.password, user.username)
    user.password_hash = hash_password(body.password)
    revoke_tokens(user)
    await commit_and_announce(services, session, user_id)
    return user


@router.delete("/{user_id}")
@requires(Module.USERS, Op.DELETE)
async def delete_user(
    user_id: Id, caller: Superuser, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    if caller.id == user_id:
        raise PermissionDeniedError("you cannot delete your own user")
    user = await _get(session, user_id, caller)
    await session.delete(user)
    await commit_and_announce(services, session, user_id)
    return {"detail": "User deleted"}
