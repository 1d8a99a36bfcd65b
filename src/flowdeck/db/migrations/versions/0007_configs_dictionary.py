"""a tenant's configs and dictionary

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 23:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _audit() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
    ]


def _tenant(table: str) -> sa.Column:  # type: ignore[type-arg]
    fk = sa.ForeignKey("tenants.id", name=f"fk_{table}_tenant_id_tenants", ondelete="CASCADE")
    return sa.Column("tenant_id", sa.String(36), fk, nullable=False)


def upgrade() -> None:
    op.create_table(
        "configs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant("configs"),
        sa.Column("config_key", sa.String(128), nullable=False),
        sa.Column("config_name", sa.String(64), nullable=False),
        sa.Column("config_value", sa.Text(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        *_audit(),
        sa.UniqueConstraint("tenant_id", "config_key", name="uq_configs_tenant_id"),
    )
    op.create_index("ix_configs_tenant_id", "configs", ["tenant_id"])
    op.create_table(
        "dictionary",
        sa.Column("config_id", sa.Integer(), primary_key=True, autoincrement=True),
        _tenant("dictionary"),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.Column("config_key", sa.String(128), nullable=False),
        sa.Column("config_name", sa.String(64), nullable=False),
        sa.Column("config_en_name", sa.String(64), nullable=False),
        sa.Column("key_order", sa.Integer(), nullable=False),
        sa.Column("config_value", sa.Text(), nullable=False),
        sa.Column("note", sa.String(2000), nullable=True),
        *_audit(),
        sa.UniqueConstraint("tenant_id", "parent_id", "config_key", name="uq_dictionary_tenant_id"),
    )
    op.create_index("ix_dictionary_tenant_id", "dictionary", ["tenant_id"])
    op.create_index("ix_dictionary_parent_id", "dictionary", ["parent_id"])


def downgrade() -> None:
    op.drop_table("dictionary")
    op.drop_table("configs")
