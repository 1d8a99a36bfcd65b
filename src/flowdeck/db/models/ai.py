"""The AI layer's registries, per tenant: model providers, their models, MCP servers.

Secrets are stored sealed (flowdeck.auth.sealing): `api_key_sealed`, `env_sealed` and
`headers_sealed` hold ciphertext only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, RowScope
from flowdeck.db.models.access import Audited


class ModelProvider(Audited, Base):
    __tablename__ = "model_providers"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "provider_key"),)

    provider_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    provider_key: Mapped[str] = mapped_column(String(64))
    provider_name: Mapped[str] = mapped_column(String(64))
    icon: Mapped[str] = mapped_column(String(64), default="Bot")
    variable_name: Mapped[str] = mapped_column(String(128))
    requires_api_key: Mapped[bool] = mapped_column(Boolean, default=True)
    api_docs_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    model_class: Mapped[str] = mapped_column(String(128))
    model_name_param: Mapped[str] = mapped_column(String(64), default="model")
    api_key_param: Mapped[str] = mapped_column(String(64), default="api_key")
    base_url_param: Mapped[str | None] = mapped_column(String(64), nullable=True)
    base_url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    url_param: Mapped[str | None] = mapped_column(String(64), nullable=True)
    max_tokens_field_name: Mapped[str] = mapped_column(String(64), default="max_tokens")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    key_order: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    api_key_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)


class ProviderModel(Audited, Base):
    __tablename__ = "provider_models"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("provider_id", "model_name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    provider_id: Mapped[int] = mapped_column(
        Integer, ForeignKey("model_providers.provider_id", ondelete="CASCADE"), index=True
    )
    model_name: Mapped[str] = mapped_column(String(128))
    model_display_name: Mapped[str | None] = mapped_column(String(128), nullable=True)
    model_type: Mapped[str] = mapped_column(String(128))
    context_length: Mapped[int | None] = mapped_column(Integer, nullable=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    is_deprecated: Mapped[bool] = mapped_column(Boolean, default=False)
    is_not_supported: Mapped[bool] = mapped_column(Boolean, default=False)
    is_preview: Mapped[bool] = mapped_column(Boolean, default=False)
    is_reasoning: Mapped[bool] = mapped_column(Boolean, default=False)
    is_tool_calling: Mapped[bool] = mapped_column(Boolean, default=False)
    is_search: Mapped[bool] = mapped_column(Boolean, default=False)
    is_vl: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    key_order: Mapped[int] = mapped_column(Integer, default=0)
    # `metadata` is SQLAlchemy's own attribute on a model: the column keeps the seed's name.
    model_metadata: Mapped[dict[str, Any] | None] = mapped_column("metadata", JSON, nullable=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)


class McpServer(Audited, Base):
    __tablename__ = "mcp_servers"
    __scope__ = RowScope.TENANT
    __table_args__ = (UniqueConstraint("tenant_id", "name"),)

    server_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(
        String(36), ForeignKey("tenants.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(128))
    mcp_scope: Mapped[int] = mapped_column(Integer, default=1)
    # A server registered for a business goes with it.
    business_id: Mapped[int | None] = mapped_column(
        Integer,
        ForeignKey("businesses.business_id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    )
    mcp_type: Mapped[str] = mapped_column(String(32), default="stdio")
    command: Mapped[str | None] = mapped_column(String(1024), nullable=True)
    args: Mapped[list[Any]] = mapped_column(JSON, default=list)
    env_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    headers_sealed: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    logo: Mapped[str | None] = mapped_column(String(2048), nullable=True)
    note: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
