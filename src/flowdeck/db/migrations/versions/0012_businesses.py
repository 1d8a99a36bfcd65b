"""businesses (three levels per tenant) and the roles bound to users on them; flows, projects
and MCP servers belong to a business through a foreign key; group members get is_leader

Before this there was no businesses table, so any business_id already stored named nothing:
it is cleared before the foreign keys are added (a flow or project then belongs to no
business, a server registered for one is dropped with it, as deleting a business would).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_AUDIT = (
    ("c_uid", sa.Integer(), True),
    ("m_uid", sa.Integer(), True),
    ("ctime", sa.DateTime(timezone=True), False),
    ("utime", sa.DateTime(timezone=True), False),
)


def _audit() -> list[sa.Column[object]]:
    return [sa.Column(name, kind, nullable=nullable) for name, kind, nullable in _AUDIT]


def upgrade() -> None:
    op.create_table(
        "businesses",
        sa.Column("business_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("business_name", sa.String(length=64), nullable=False),
        sa.Column("business_level", sa.Integer(), nullable=False),
        sa.Column("first_business_id", sa.Integer(), nullable=False),
        sa.Column("second_business_id", sa.Integer(), nullable=False),
        sa.Column("third_business_id", sa.Integer(), nullable=False),
        sa.Column("is_enable", sa.Boolean(), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=True),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_businesses_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("business_id", name=op.f("pk_businesses")),
    )
    for column in ("tenant_id", "first_business_id", "second_business_id", "third_business_id"):
        op.create_index(op.f(f"ix_businesses_{column}"), "businesses", [column], unique=False)
    op.create_table(
        "business_user_roles",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(length=36), nullable=False),
        sa.Column("business_id", sa.Integer(), nullable=False),
        sa.Column("uid", sa.Integer(), nullable=False),
        sa.Column("role_id", sa.String(length=32), nullable=False),
        *_audit(),
        sa.ForeignKeyConstraint(
            ["business_id"],
            ["businesses.business_id"],
            name=op.f("fk_business_user_roles_business_id_businesses"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["role_id"],
            ["roles.role_id"],
            name=op.f("fk_business_user_roles_role_id_roles"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"],
            ["tenants.id"],
            name=op.f("fk_business_user_roles_tenant_id_tenants"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uid"],
            ["users.id"],
            name=op.f("fk_business_user_roles_uid_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_user_roles")),
        sa.UniqueConstraint(
            "business_id", "uid", "role_id", name=op.f("uq_business_user_roles_business_id")
        ),
    )
    for column in ("business_id", "role_id", "tenant_id", "uid"):
        op.create_index(
            op.f(f"ix_business_user_roles_{column}"), "business_user_roles", [column], unique=False
        )

    # Group members get the seed's is_leader (the org and group user searches sort by it).
    with op.batch_alter_table("user_group_members") as batch:
        batch.add_column(sa.Column("is_leader", sa.Boolean(), nullable=True))
    op.execute("UPDATE user_group_members SET is_leader = false")
    with op.batch_alter_table("user_group_members") as batch:
        batch.alter_column("is_leader", existing_type=sa.Boolean(), nullable=False)

    op.execute("UPDATE flows SET business_id = NULL WHERE business_id IS NOT NULL")
    op.execute("DELETE FROM mcp_servers WHERE business_id IS NOT NULL")
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("business_id", sa.Integer(), nullable=True))
    for table, ondelete in (("flows", "SET NULL"), ("projects", "SET NULL")):
        with op.batch_alter_table(table) as batch:
            batch.create_index(batch.f(f"ix_{table}_business_id"), ["business_id"], unique=False)
            batch.create_foreign_key(
                batch.f(f"fk_{table}_business_id_businesses"),
                "businesses",
                ["business_id"],
                ["business_id"],
                ondelete=ondelete,
            )
    with op.batch_alter_table("mcp_servers") as batch:
        batch.create_foreign_key(
            batch.f("fk_mcp_servers_business_id_businesses"),
            "businesses",
            ["business_id"],
            ["business_id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    with op.batch_alter_table("mcp_servers") as batch:
        batch.drop_constraint("fk_mcp_servers_business_id_businesses", type_="foreignkey")
    for table in ("flows", "projects"):
        with op.batch_alter_table(table) as batch:
            batch.drop_constraint(f"fk_{table}_business_id_businesses", type_="foreignkey")
            batch.drop_index(f"ix_{table}_business_id")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("business_id")
    with op.batch_alter_table("user_group_members") as batch:
        batch.drop_column("is_leader")
    op.drop_table("business_user_roles")
    op.drop_table("businesses")
