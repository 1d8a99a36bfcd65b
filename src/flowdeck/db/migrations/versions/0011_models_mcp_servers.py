"""model providers and their models, MCP servers (secrets sealed at rest)

Revision ID: 0011
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mcp_servers",
        sa.Column("server_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("mcp_scope", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("mcp_type", sa.String(length=32), nullable=False),
        sa.Column("command", sa.String(length=1024), nullable=True),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("env_sealed", sa.Text(), nullable=True),
        sa.Column("headers_sealed", sa.Text(), nullable=True),
        sa.Column("url", sa.String(length=2048), nullable=True),
        sa.Column("logo", sa.String(length=2048), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_mcp_servers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("server_id", name=op.f("pk_mcp_servers")),
        sa.UniqueConstraint("tenant_id", "name", name=op.f("uq_mcp_servers_tenant_id")),
    )
    op.create_index(
        op.f("ix_mcp_servers_business_id"), "mcp_servers", ["business_id"], unique=False
    )
    op.create_index(op.f("ix_mcp_servers_tenant_id"), "mcp_servers", ["tenant_id"], unique=False)
    op.create_table(
        "model_providers",
        sa.Column("provider_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("provider_key", sa.String(length=64), nullable=False),
        sa.Column("provider_name", sa.String(length=64), nullable=False),
        sa.Column("icon", sa.String(length=64), nullable=False),
        sa.Column("variable_name", sa.String(length=128), nullable=False),
        sa.Column("requires_api_key", sa.Boolean(), nullable=False),
        sa.Column("api_docs_url", sa.String(length=2048), nullable=True),
        sa.Column("model_class", sa.String(length=128), nullable=False),
        sa.Column("model_name_param", sa.String(length=64), nullable=False),
        sa.Column("api_key_param", sa.String(length=64), nullable=False),
        sa.Column("base_url_param", sa.String(length=64), nullable=True),
        sa.Column("base_url", sa.String(length=2048), nullable=True),
        sa.Column("url_param", sa.String(length=64), nullable=True),
        sa.Column("max_tokens_field_name", sa.String(length=64), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("key_order", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("api_key_sealed", sa.Text(), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_model_providers_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("provider_id", name=op.f("pk_model_providers")),
        sa.UniqueConstraint("tenant_id", "provider_key", name=op.f("uq_model_providers_tenant_id")),
    )
    op.create_index(
        op.f("ix_model_providers_tenant_id"), "model_providers", ["tenant_id"], unique=False
    )
    op.create_table(
        "provider_models",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("provider_id", sa.Integer(), nullable=False),
        sa.Column("model_name", sa.String(length=128), nullable=False),
        sa.Column("model_display_name", sa.String(length=128), nullable=True),
        sa.Column("model_type", sa.String(length=128), nullable=False),
        sa.Column("context_length", sa.Integer(), nullable=True),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("is_deprecated", sa.Boolean(), nullable=False),
        sa.Column("is_not_supported", sa.Boolean(), nullable=False),
        sa.Column("is_preview", sa.Boolean(), nullable=False),
        sa.Column("is_reasoning", sa.Boolean(), nullable=False),
        sa.Column("is_tool_calling", sa.Boolean(), nullable=False),
        sa.Column("is_search", sa.Boolean(), nullable=False),
        sa.Column("is_vl", sa.Boolean(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("key_order", sa.Integer(), nullable=False),
        sa.Column("metadata", sa.JSON(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["provider_id"],
            ["model_providers.provider_id"],
            name=op.f("fk_provider_models_provider_id_model_providers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_provider_models_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_provider_models")),
        sa.UniqueConstraint(
            "provider_id", "model_name", name=op.f("uq_provider_models_provider_id")
        ),
    )
    op.create_index(
        op.f("ix_provider_models_provider_id"), "provider_models", ["provider_id"], unique=False
    )
    op.create_index(
        op.f("ix_provider_models_tenant_id"), "provider_models", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_provider_models_tenant_id"), table_name="provider_models")
    op.drop_index(op.f("ix_provider_models_provider_id"), table_name="provider_models")
    op.drop_table("provider_models")
    op.drop_index(op.f("ix_model_providers_tenant_id"), table_name="model_providers")
    op.drop_table("model_providers")
    op.drop_index(op.f("ix_mcp_servers_tenant_id"), table_name="mcp_servers")
    op.drop_index(op.f("ix_mcp_servers_business_id"), table_name="mcp_servers")
    op.drop_table("mcp_servers")
