"""Model types, providers and their models (the seed's Model Management group).

A provider's API key is sealed on the way in and masked on the way out (ProviderRead).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.paths import both
from flowdeck.auth.sealing import MASK
from flowdeck.db.models import ModelProvider, ProviderModel
from flowdeck.db.repositories.base import Repository
from flowdeck.errors import UnprocessableError
from flowdeck.resources.declaration import Context, Hooks, Resource
from flowdeck.resources.repository import ResourceRepository
from flowdeck.resources.routes import ContextDep, ListFilter, mount
from flowdeck.schemas.common import DeletedCount, IntIds
from flowdeck.schemas.models import (
    MODEL_TYPES,
    ModelCreate,
    ModelRead,
    ModelType,
    ModelUpdate,
    ProviderCreate,
    ProviderRead,
    ProviderUpdate,
)

router = guarded_router(prefix="/api/v1", tags=["Model Management"])


class _Models(Repository[ProviderModel]):
    model = ProviderModel
    label = "provider model"


async def _seal_api_key(ctx: Context, values: dict[str, Any], _row: Any) -> dict[str, Any]:
    if "api_key" not in values:
        return values
    key = values.pop("api_key")
    if key == MASK:
        return values  # sent back as it was read: the stored key stays
    values["api_key_sealed"] = ctx.services.secrets.seal_optional(key)
    return values


PROVIDERS = Resource(
    label="model provider",
    path="/models/providers",
    module=Module.MODELS,
    model=ModelProvider,
    read=ProviderRead,
    create=ProviderCreate,
    update=ProviderUpdate,
    id_field="provider_id",
    id_attr="provider_id",
    id_type=int,
    sort={
        "provider_key": "provider_key",
        "provider_name": "provider_name",
        "key_order": "key_order",
    },
    default_sort="key_order",
    search=("provider_key", "provider_name", "note"),
    hooks=Hooks(before_write=_seal_api_key),
    batch_remove=True,
)


MODELS = Resource(
    label="provider model",
    path="/models/providers/{provider_id}/models",
    item_prefix="/models",
    module=Module.MODELS,
    model=ProviderModel,
    read=ModelRead,
    create=ModelCreate,
    update=ModelUpdate,
    id_field="model_id",
    id_type=int,
    parent_field="provider_id",
    parent_attr="provider_id",
    parent_model=ModelProvider,
    parent_type=int,
    sort={
        "model_type": "model_type",
        "model_name": "model_name",
        "model_display_name": "model_display_name",
        "context_length": "context_length",
        "key_order": "key_order",
    },
    default_sort="key_order",
    search=("model_name", "model_display_name", "note"),
    columns={"metadata": "model_metadata"},
    batch_remove=True,
)


@both(router, "GET", "/models/types", response_model=list[ModelType])
@requires(Module.MODELS, Op.READ)
async def read_model_types(ctx: ContextDep) -> list[ModelType]:
    """The kinds of model: the known ones, then any other a model of this tenant names."""
    used = await ctx.session.execute(
        _Models(ctx.session, ctx.principal.scope)
        .scoped(select(ProviderModel.model_type).distinct())
        .order_by(ProviderModel.model_type)
    )
    known = {t.model_type for t in MODEL_TYPES}
    extra = [
        ModelType(model_type=t, name=t, description="") for t in used.scalars() if t not in known
    ]
    return [*MODEL_TYPES, *extra]


def _models_of(ctx: Context, provider_id: int) -> ResourceRepository[ProviderModel]:
    return ResourceRepository(ctx, MODELS, provider_id)


@both(router, "POST", "/models/", response_model=ModelRead, status_code=201)
@requires(Module.MODELS, Op.WRITE)
async def add_provider_model(ctx: ContextDep, body: ModelCreate) -> Any:
    """Add a model to the provider its body names (the seed's Add Provider Model)."""
    if body.provider_id is None:
        raise UnprocessableError("provider_id is required", field="provider_id")
    rows = _models_of(ctx, body.provider_id)
    await rows.check_parent()
    return await rows.create(body.model_dump())


@both(router, "POST", "/models/batch-remove", response_model=DeletedCount)
@requires(Module.MODELS, Op.DELETE)
async def remove_provider_models(ctx: ContextDep, body: IntIds) -> DeletedCount:
    """Remove models by id, whichever provider of this tenant they belong to."""
    rows = ResourceRepository(ctx, MODELS)
    return DeletedCount(deleted_count=await rows.delete_many(list(body.ids)))


def _model_type(_ctx: Context, value: Any) -> Any:
    return None if value is None else ProviderModel.model_type == value


# Fixed paths first: `/types` and `/batch-remove` are not model ids.
mount(router, PROVIDERS)
mount(router, MODELS, {"model_type": ListFilter(str | None, None, _model_type)})
