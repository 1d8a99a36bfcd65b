"""What a run looks up in its own tenant: a registered chat model, an MCP server, a stored
component.

Only the run's tenant is searched, so a flow naming another tenant's provider or server
finds nothing. Secrets are opened here, for the step that uses them, and go no further.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select

from flowdeck.auth.sealing import SecretBox
from flowdeck.db.database import Database
from flowdeck.db.models import McpServer, ModelProvider, ProviderModel
from flowdeck.engine.components.base import Component
from flowdeck.engine.registries import ChatModelTarget, McpEndpoint
from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.services.components import StoredLookup
from flowdeck.services.mcp_servers import endpoint_of


class DbRegistries:
    def __init__(self, db: Database, secrets: SecretBox) -> None:
        self.db = db
        self.secrets = secrets
        self.stored = StoredLookup(db)

    async def components(self, tenant_id: str, names: Collection[str]) -> list[type[Component]]:
        return await self.stored.components(tenant_id, names)

    async def chat_model(
        self, tenant_id: str, provider_key: str, model_name: str
    ) -> ChatModelTarget:
        stmt = select(ModelProvider).where(
            ModelProvider.tenant_id == tenant_id, ModelProvider.provider_key == provider_key
        )
        async with self.db.session() as session:
            provider = (await session.execute(stmt)).scalar_one_or_none()
            if provider is None or not provider.is_active:
                state = "is not active" if provider is not None else "is not registered"
                raise NotFoundError(f"model provider {provider_key!r} {state}", field="provider")
            model = (
                await session.execute(
                    select(ProviderModel).where(
                        ProviderModel.provider_id == provider.provider_id,
                        ProviderModel.tenant_id == tenant_id,
                        ProviderModel.model_name == model_name,
                    )
                )
            ).scalar_one_or_none()
        if model is None or not model.is_active:
            state = "is not active" if model is not None else "is not registered"
            raise NotFoundError(
                f"model {model_name!r} of provider {provider_key!r} {state}", field="model_name"
            )
        if not provider.base_url:
            raise InvalidInputError(
                f"model provider {provider_key!r} has no base_url to call", field="provider"
            )
        api_key = self.secrets.open_optional(provider.api_key_sealed)
        if provider.requires_api_key and not api_key:
            raise InvalidInputError(
                f"model provider {provider_key!r} requires an API key and has none",
                field="provider",
            )
        return ChatModelTarget(
            provider_key=provider_key,
            base_url=provider.base_url,
            model=model.model_name,
            api_key=api_key,
            max_tokens_field=provider.max_tokens_field_name or "max_tokens",
        )

    async def mcp_server(self, tenant_id: str, name: str) -> McpEndpoint:
        stmt = select(McpServer).where(McpServer.tenant_id == tenant_id, McpServer.name == name)
        async with self.db.session() as session:
            row = (await session.execute(stmt)).scalar_one_or_none()
        if row is None:
            raise NotFoundError(f"MCP server {name!r} is not registered", field="server")
        if not row.is_active:
            raise InvalidInputError(f"MCP server {name!r} is not active", field="server")
        return endpoint_of(row, self.secrets)
