"""API keys: created with the whole key shown once, stored hashed (Langflow's /api_key).

A key belongs to its user in the tenant it was created in (the model's TENANT_OWNER scope):
it is found, listed and deleted there only, and acts for its user there.
"""

from __future__ import annotations

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import ServicesDep
from flowdeck.auth.secrets import hash_api_key, new_api_key, preview_api_key
from flowdeck.db.models import ApiKey
from flowdeck.resources.declaration import Context, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep
from flowdeck.schemas.users import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, ApiKeysPage
from flowdeck.services.caches import auth_cache

router = guarded_router(prefix="/api/v1/api_key", tags=["APIKey"])

API_KEYS = Resource(
    label="API key",
    path="",
    module=Module.API_KEYS,
    model=ApiKey,
    read=ApiKeyRead,
    create=ApiKeyCreate,
    update=None,
    id_field="api_key_id",
    sort={"created_at": "created_at"},
    default_sort="created_at",
    audit=False,
)


def _keys(ctx: Context) -> ResourceRepository[ApiKey]:
    return ResourceRepository(ctx, API_KEYS)


@router.get("/", response_model=ApiKeysPage)
@requires(Module.API_KEYS, Op.READ)
async def get_api_keys_route(ctx: ContextDep, services: ServicesDep) -> ApiKeysPage:
    """The caller's keys in the tenant the request acts in."""
    await auth_cache(services).flush_uses()  # show the uses counted so far
    # Langflow's page is one user's keys (it names user_id): the scope decides what may be
    # read, this only picks that view, so an administrator's page is theirs too.
    me = ctx.principal.user.id
    rows, total = await _keys(ctx).page(None, None, False, filters=(ApiKey.user_id == me,))
    return ApiKeysPage(
        total_count=total, user_id=me, api_keys=[ApiKeyRead.model_validate(r) for r in rows]
    )


@router.post("/", response_model=ApiKeyCreated)
@requires(Module.API_KEYS, Op.WRITE)
async def create_api_key_route(body: ApiKeyCreate, ctx: ContextDep) -> ApiKeyCreated:
    key = new_api_key()
    row = await _keys(ctx).create(
        {
            "name": body.name,
            "key_hash": hash_api_key(key),
            "key_preview": preview_api_key(key),
            "total_uses": 0,
            "is_active": True,
        }
    )
    read = ApiKeyRead.model_validate(row)
    return ApiKeyCreated(**{**read.model_dump(), "api_key": key})


@router.delete("/{api_key_id}")
@requires(Module.API_KEYS, Op.DELETE)
async def delete_api_key_route(
    api_key_id: str, ctx: ContextDep, services: ServicesDep
) -> dict[str, str]:
    keys = _keys(ctx)
    row = await keys.get(api_key_id)
    await keys.delete(row)
    await ctx.session.commit()
    auth_cache(services).forget_key(row.key_hash)
    return {"detail": "API Key deleted"}
