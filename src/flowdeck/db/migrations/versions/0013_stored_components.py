"""stored components: groups, components with custom code, their versions

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 16:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "component_groups",
        sa.Column("group_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("group_name", sa.String(length=128), nullable=False),
        sa.Column("group_en_name", sa.String(length=128), nullable=False),
        sa.Column("component_type", sa.String(length=16), nullable=False),
        sa.Column("icon", sa.String(length=128), nullable=True),
        sa.Column("tags", sa.JSON(), nullable=True),
        sa.Column("order_num", sa.Integer(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_component_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_component_groups")),
    )
    op.create_index(
        op.f("ix_component_groups_business_id"), "component_groups", ["business_id"], unique=False
    )
    op.create_index(
        op.f("ix_component_groups_tenant_id"), "component_groups", ["tenant_id"], unique=False
    )

    op.create_table(
        "components",
        sa.Column("component_id", sa.String(length=36), nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("component_group_id", sa.Integer(), nullable=False),
        sa.Column("component_name", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=128), nullable=True),
        sa.Column("icon", sa.String(length=128), nullable=True),
        sa.Column("tag", sa.String(length=128), nullable=False),
        sa.Column("code", sa.Text(), nullable=True),
        sa.Column("component_skill", sa.Text(), nullable=True),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("version_note", sa.String(length=2000), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_legacy", sa.Boolean(), nullable=False),
        sa.Column("is_deprecated", sa.Boolean(), nullable=False),
        sa.Column("scope", sa.Integer(), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_group_id"],
            ["component_groups.group_id"],
            name=op.f("fk_components_component_group_id_component_groups"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_components_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("component_id", name=op.f("pk_components")),
        sa.UniqueConstraint("tenant_id", "component_name", name=op.f("uq_components_tenant_id")),
    )
    op.create_index(op.f("ix_components_business_id"), "components", ["business_id"], unique=False)
    op.create_index(
        op.f("ix_components_component_group_id"), "components", ["component_group_id"], unique=False
    )
    op.create_index(op.f("ix_components_tenant_id"), "components", ["tenant_id"], unique=False)

    op.create_table(
        "component_versions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("component_id", sa.String(length=36), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("version_note", sa.String(length=2000), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["component_id"],
            ["components.component_id"],
            name=op.f("fk_component_versions_component_id_components"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_component_versions_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_component_versions")),
        sa.UniqueConstraint(
            "component_id", "version", name=op.f("uq_component_versions_component_id")
        ),
    )
    op.create_index(
        op.f("ix_component_versions_component_id"),
        "component_versions",
        ["component_id"],
        unique=False,
    )
    op.create_index(
        op.f("ix_component_versions_tenant_id"), "component_versions", ["tenant_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_component_versions_tenant_id"), table_name="component_versions")
    op.drop_index(op.f("ix_component_versions_component_id"), table_name="component_versions")

    op.drop_table("component_versions")
    op.drop_index(op.f("ix_components_tenant_id"), table_name="components")
    op.drop_index(op.f("ix_components_component_group_id"), table_name="components")
    op.drop_index(op.f("ix_components_business_id"), table_name="components")

    op.drop_table("components")
    op.drop_index(op.f("ix_component_groups_tenant_id"), table_name="component_groups")
    op.drop_index(op.f("ix_component_groups_business_id"), table_name="component_groups")

    op.drop_table("component_groups")
