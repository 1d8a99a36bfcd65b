"""organisations and user groups, their members, and roles bound to groups and orgs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 23:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "orgs",
        sa.Column("org_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("org_name", sa.String(length=64), nullable=False),
        sa.Column("org_code", sa.String(length=64), nullable=True),
        sa.Column("org_level", sa.Integer(), nullable=False),
        sa.Column("one_org_id", sa.Integer(), nullable=False),
        sa.Column("two_org_id", sa.Integer(), nullable=False),
        sa.Column("three_org_id", sa.Integer(), nullable=False),
        sa.Column("four_org_id", sa.Integer(), nullable=False),
        sa.Column("five_org_id", sa.Integer(), nullable=False),
        sa.Column("six_org_id", sa.Integer(), nullable=False),
        sa.Column("parent_org_id", sa.Integer(), nullable=False),
        sa.Column("is_enable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_orgs_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_orgs")),
    )
    op.create_index(op.f("ix_orgs_one_org_id"), "orgs", ["one_org_id"], unique=False)
    op.create_index(op.f("ix_orgs_parent_org_id"), "orgs", ["parent_org_id"], unique=False)
    op.create_index(op.f("ix_orgs_tenant_id"), "orgs", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_orgs_two_org_id"), "orgs", ["two_org_id"], unique=False)
    op.create_table(
        "user_groups",
        sa.Column("group_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("group_name", sa.String(length=64), nullable=False),
        sa.Column("is_enable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_groups_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_user_groups")),
        sa.UniqueConstraint("tenant_id", "group_name", name=op.f("uq_user_groups_tenant_id")),
    )
    op.create_index(op.f("ix_user_groups_tenant_id"), "user_groups", ["tenant_id"], unique=False)
    op.create_table(
        "org_members",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=False),
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("is_leader", sa.Boolean(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"], ["orgs.org_id"], name=op.f("fk_org_members_org_id_orgs"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_org_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uid"], ["users.id"], name=op.f("fk_org_members_uid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_org_members")),
        sa.UniqueConstraint("org_id", "uid", name=op.f("uq_org_members_org_id")),
    )
    op.create_index(op.f("ix_org_members_org_id"), "org_members", ["org_id"], unique=False)
    op.create_index(op.f("ix_org_members_tenant_id"), "org_members", ["tenant_id"], unique=False)
    op.create_index(op.f("ix_org_members_uid"), "org_members", ["uid"], unique=False)
    op.create_table(
        "tenant_group_roles",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.group_id"],
            name=op.f("fk_tenant_group_roles_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_tenant_group_roles_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_group_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_group_roles")),
        sa.UniqueConstraint(
            "tenant_id", "group_id", "role_id", name=op.f("uq_tenant_group_roles_tenant_id")
        ),
    )
    op.create_index(
        op.f("ix_tenant_group_roles_group_id"), "tenant_group_roles", ["group_id"], unique=False
    )
    op.create_index(
        op.f("ix_tenant_group_roles_role_id"), "tenant_group_roles", ["role_id"], unique=False
    )
    op.create_index(
        op.f("ix_tenant_group_roles_tenant_id"), "tenant_group_roles", ["tenant_id"], unique=False
    )
    op.create_table(
        "tenant_org_roles",
        sa.Column("org_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["orgs.org_id"],
            name=op.f("fk_tenant_org_roles_org_id_orgs"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_tenant_org_roles_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_tenant_org_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tenant_org_roles")),
        sa.UniqueConstraint(
            "tenant_id", "org_id", "role_id", name=op.f("uq_tenant_org_roles_tenant_id")
        ),
    )
    op.create_index(
        op.f("ix_tenant_org_roles_org_id"), "tenant_org_roles", ["org_id"], unique=False
    )
    op.create_index(
        op.f("ix_tenant_org_roles_role_id"), "tenant_org_roles", ["role_id"], unique=False
    )
    op.create_index(
        op.f("ix_tenant_org_roles_tenant_id"), "tenant_org_roles", ["tenant_id"], unique=False
    )
    op.create_table(
        "user_group_members",
        sa.Column("group_id", sa.Integer(), nullable=False),
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["user_groups.group_id"],
            name=op.f("fk_user_group_members_group_id_user_groups"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_user_group_members_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uid"], ["users.id"], name=op.f("fk_user_group_members_uid_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_group_members")),
        sa.UniqueConstraint("group_id", "uid", name=op.f("uq_user_group_members_group_id")),
    )
    op.create_index(
        op.f("ix_user_group_members_group_id"), "user_group_members", ["group_id"], unique=False
    )
    op.create_index(
        op.f("ix_user_group_members_tenant_id"), "user_group_members", ["tenant_id"], unique=False
    )
    op.create_index(op.f("ix_user_group_members_uid"), "user_group_members", ["uid"], unique=False)


def downgrade() -> None:
    for table in (
        "user_group_members",
        "tenant_org_roles",
        "tenant_group_roles",
        "org_members",
        "user_groups",
        "orgs",
    ):
        op.drop_table(table)
