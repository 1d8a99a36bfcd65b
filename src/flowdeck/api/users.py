"""User administration and `whoami` (Langflow's /api/v1/users).

Administration needs the USERS privileges in the tenant the request acts in, and reaches
that tenant's users only (the model's TENANT scope): a tenant administrator manages their
own tenant's users, a platform superuser any tenant's by acting in it. A user changing
their own profile or password needs no privilege, as in Langflow.
"""

from __future__ import annotations

from sqlalchemy import select

from flowdeck.access.catalog import DEVELOPER, TENANT_ADMIN, Module, Op, Privilege
from flowdeck.access.declare import requires, signed_in
from flowdeck.access.guard import demand, guarded_router
from flowdeck.access.principal import tenants_of
from flowdeck.access.seed import bind_role
from flowdeck.api.deps import CurrentUser, ServicesDep
from flowdeck.auth.secrets import hash_password
from flowdeck.db.models import User
from flowdeck.errors import ConflictError, PermissionDeniedError, UnprocessableError
from flowdeck.resources.declaration import Context, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep
from flowdeck.schemas.common import Count, Id
from flowdeck.schemas.tenancy import TenantChoice
from flowdeck.schemas.users import PasswordReset, UserCreate, UserRead, UsersPage, UserUpdate
from flowdeck.services.accounts import commit_and_announce, require_valid_password, revoke_tokens
from flowdeck.services.people import in_acting_tenant

router = guarded_router(prefix="/api/v1/users", tags=["Users"])

USERS = Resource(
    label="user",
    path="",
    module=Module.USERS,
    model=User,
    read=UserRead,
    create=None,
    update=None,
    id_field="user_id",
    id_type=int,
    audit=False,
)


def _users(ctx: Context) -> ResourceRepository[User]:
    return ResourceRepository(ctx, USERS)


def _platform_only(ctx: Context, what: str) -> None:
    # Superuser rights hold in every tenant: only those who already hold them grant them.
    if not ctx.principal.user.is_superuser:
        raise PermissionDeniedError(f"only a platform superuser may {what}", field="is_superuser")


async def _check_name(ctx: Context, username: str) -> None:
    # Usernames are global: they are what a login names, before any tenant is known.
    if (await ctx.session.execute(select(User.id).where(User.username == username))).first():
        raise ConflictError(f"username {username!r} is taken", field="username")


@router.post("/", response_model=UserRead, status_code=201)
@requires(Module.USERS, Op.WRITE)
async def add_user(body: UserCreate, ctx: ContextDep, services: ServicesDep) -> User:
    """A user whose default tenant is the one the request acts in."""
    require_valid_password(services.settings, body.password, body.username)
    if body.is_superuser:
        _platform_only(ctx, "create a superuser")
    tenant = ctx.principal.tenant_id
    if body.tenant_id is not None and not ctx.principal.user.is_superuser:
        tenant = in_acting_tenant(tenant, {"tenant_id": body.tenant_id})
    elif body.tenant_id is not None:
        tenant = str(body.tenant_id)
    await _check_name(ctx, body.username)
    user = User(
        username=body.username,
        password_hash=hash_password(body.password),
        is_superuser=body.is_superuser,
        is_active=body.is_active,
        tenant_id=tenant,
    )
    ctx.session.add(user)
    await ctx.session.flush()
    role = TENANT_ADMIN if user.is_superuser else DEVELOPER
    await bind_role(ctx.session, user.tenant_id, user.id, role)
    return user


@router.get("/whoami", response_model=UserRead)
@signed_in
async def read_current_user(user: CurrentUser) -> User:
    return user


@router.get("/whoami/tenants", response_model=list[TenantChoice])
@signed_in
async def read_my_tenants(user: CurrentUser, services: ServicesDep) -> list[TenantChoice]:
    """The tenants the caller may act in (a role held there, or their default tenant), for
    choosing the `Tenant-Id` to send; no privilege needed, unlike `GET /api/v1/tenants`."""
    held = await tenants_of(services.db, user)
    return [
        TenantChoice(tenant_id=tid, tenant_name=name, is_default=tid == user.tenant_id)
        for tid, name in held
    ]


@router.get("/", response_model=UsersPage)
@requires(Module.USERS, Op.READ)
async def read_all_users(ctx: ContextDep, skip: Count = 0, limit: Count = 10) -> UsersPage:
    """The users of the tenant the request acts in, a page, and how many there are."""
    rows, total = await _users(ctx).page(None, None, False, skip, limit)
    return UsersPage(total_count=total, users=[UserRead.model_validate(u) for u in rows])


async def _target(ctx: Context, user_id: int) -> User:
    """The user a change is for: the caller, or (with USERS MODIFY) one of the tenant's."""
    if user_id != ctx.principal.user.id:
        demand(ctx.principal, Privilege(Module.USERS, Op.MODIFY))
        return await _users(ctx).get(user_id)
    user = await ctx.session.get(User, user_id)
    assert user is not None  # the caller was found by the access check
    return user


@router.patch("/{user_id}", response_model=UserRead)
@signed_in
async def patch_user(user_id: Id, body: UserUpdate, ctx: ContextDep, services: ServicesDep) -> User:
    """Change one's own profile, or (administrators) a user of the tenant."""
    values = body.model_dump(exclude_unset=True)
    if values.get("is_active") is not None:
        demand(ctx.principal, Privilege(Module.USERS, Op.MODIFY))
    user = await _target(ctx, user_id)
    if values.get("is_superuser") not in (None, user.is_superuser):
        _platform_only(ctx, "change superuser rights")
    for required in ("password", "username"):
        if required in values and values[required] is None:
            raise UnprocessableError(
                f"{required} cannot be null", field=required, constraint="not_null"
            )
    if "username" in values and values["username"] != user.username:
        await _check_name(ctx, values["username"])
    if "password" in values:
        password = values.pop("password")
        require_valid_password(services.settings, password, values.get("username", user.username))
        user.password_hash = hash_password(password)
        revoke_tokens(user)
    for key, value in values.items():
        setattr(user, key, value)
    await commit_and_announce(services, ctx.session, user_id)
    return user


@router.patch("/{user_id}/reset-password", response_model=UserRead)
@signed_in
async def reset_password(
    user_id: Id, body: PasswordReset, ctx: ContextDep, services: ServicesDep
) -> User:
    """Set one's own password, or (administrators) a tenant user's."""
    user = await _target(ctx, user_id)
    require_valid_password(services.settings, body.password, user.username)
    user.password_hash = hash_password(body.password)
    revoke_tokens(user)
    await commit_and_announce(services, ctx.session, user_id)
    return user


@router.delete("/{user_id}")
@requires(Module.USERS, Op.DELETE)
async def delete_user(user_id: Id, ctx: ContextDep, services: ServicesDep) -> dict[str, str]:
    if ctx.principal.user.id == user_id:
        raise PermissionDeniedError("you cannot delete your own user")
    users = _users(ctx)
    await users.delete(await users.get(user_id))
    await commit_and_announce(services, ctx.session, user_id)
    return {"detail": "User deleted"}
