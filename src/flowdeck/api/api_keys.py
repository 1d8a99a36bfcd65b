"""API keys: created with the whole key shown once, stored hashed (Langflow's /api_key)."""

from __future__ import annotations

from sqlalchemy import select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.deps import CurrentUser, PrincipalDep, ServicesDep, SessionDep
from flowdeck.auth.secrets import hash_api_key, new_api_key, preview_api_key
from flowdeck.db.models import ApiKey
from flowdeck.errors import NotFoundError
from flowdeck.schemas.users import ApiKeyCreate, ApiKeyCreated, ApiKeyRead, ApiKeysPage
from flowdeck.services.caches import auth_cache

router = guarded_router(prefix="/api/v1/api_key", tags=["APIKey"])


@router.get("/", response_model=ApiKeysPage)
@requires(Module.API_KEYS, Op.READ)
async def get_api_keys_route(
    user: CurrentUser, session: SessionDep, services: ServicesDep
) -> ApiKeysPage:
    await auth_cache(services).flush_uses()  # show the uses counted so far
    rows = list(
        (
            await session.execute(
                select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at)
            )
        ).scalars()
    )
    return ApiKeysPage(
        total_count=len(rows),
        user_id=user.id,
        api_keys=[ApiKeyRead.model_validate(r) for r in rows],
    )


@router.post("/", response_model=ApiKeyCreated)
@requires(Module.API_KEYS, Op.WRITE)
async def create_api_key_route(
    body: ApiKeyCreate, caller: PrincipalDep, session: SessionDep
) -> ApiKeyCreated:
    key = new_api_key()
    row = ApiKey(
        user_id=caller.user.id,
        tenant_id=caller.tenant_id,
        name=body.name,
        key_hash=hash_api_key(key),
        key_preview=preview_api_key(key),
        total_uses=0,
        is_active=True,
    )
    session.add(row)
    await session.flush()
    read = ApiKeyRead.model_validate(row)
    return ApiKeyCreated(**{**read.model_dump(), "api_key": key})


@router.delete("/{api_key_id}")
@requires(Module.API_KEYS, Op.DELETE)
async def delete_api_key_route(
    api_key_id: str, user: CurrentUser, session: SessionDep, services: ServicesDep
) -> dict[str, str]:
    row = await session.get(ApiKey, api_key_id)
    if row is None or row.user_id != user.id:
        raise NotFoundError(f"API key {api_key_id} not found", field="api_key_id")
    await session.delete(row)
    await session.commit()
    auth_cache(services).forget_key(row.key_hash)
    return {"detail": "API Key deleted"}
