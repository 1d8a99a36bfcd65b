"""permission modules, privileges, roles and tenant role bindings

Revision ID: 0005
Revises: 0004_run_store_batches
Create Date: 2026-12-01 23:00:00

Existing users keep what they could do: superusers become their tenant's administrators,
everyone else a developer in their tenant. The modules, privileges and role privileges
themselves are written at every start from the catalog (flowdeck.access.catalog).
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004_run_store_batches"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEM_ROLES = {
    "tenant_admin": "Tenant administrator",
    "developer": "Developer",
    "operator": "Operator",
    "viewer": "Viewer",
}


def _audit() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("m_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.Column("utime", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "permission_modules",
        sa.Column("module_id", sa.String(64), primary_key=True),
        sa.Column("module_name", sa.String(128), nullable=False),
        sa.Column("is_sys", sa.Boolean(), nullable=False),
        *_audit(),
    )
    op.create_table(
        "module_privs",
        sa.Column(
            "module_id",
            sa.String(64),
            sa.ForeignKey(
                "permission_modules.module_id",
                name="fk_module_privs_module_id_permission_modules",
                ondelete="CASCADE",
            ),
            primary_key=True,
        ),
        sa.Column("priv_id", sa.String(128), primary_key=True),
        sa.Column("priv_name", sa.String(128), nullable=False),
        sa.Column("priv_opr_type", sa.String(16), nullable=False),
        sa.Column("is_sys_priv", sa.Boolean(), nullable=False),
        *_audit(),
    )
    roles = op.create_table(
        "roles",
        sa.Column("role_id", sa.String(32), primary_key=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey("tenants.id", name="fk_roles_tenant_id_tenants", ondelete="CASCADE"),
            nullable=True,
        ),
        sa.Column("role_name", sa.String(128), nullable=False),
        sa.Column("is_sys_role", sa.Boolean(), nullable=False),
        *_audit(),
    )
    op.create_index("ix_roles_tenant_id", "roles", ["tenant_id"])
    op.create_table(
        "role_privs",
        sa.Column(
            "role_id",
            sa.String(32),
            sa.ForeignKey("roles.role_id", name="fk_role_privs_role_id_roles", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("module_id", sa.String(64), primary_key=True),
        sa.Column("priv_id", sa.String(128), primary_key=True),
        sa.Column("c_uid", sa.Integer(), nullable=True),
        sa.Column("ctime", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["module_id", "priv_id"],
            ["module_privs.module_id", "module_privs.priv_id"],
            name="fk_role_privs_module_privs",
            ondelete="CASCADE",
        ),
    )
    op.create_table(
        "tenant_user_roles",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "tenant_id",
            sa.Integer(),
            sa.ForeignKey(
                "tenants.id", name="fk_tenant_user_roles_tenant_id_tenants", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        sa.Column(
            "uid",
            sa.Integer(),
            sa.ForeignKey("users.id", name="fk_tenant_user_roles_uid_users", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "role_id",
            sa.String(32),
            sa.ForeignKey(
                "roles.role_id", name="fk_tenant_user_roles_role_id_roles", ondelete="CASCADE"
            ),
            nullable=False,
        ),
        *_audit(),
        sa.UniqueConstraint("tenant_id", "uid", "role_id", name="uq_tenant_user_roles_tenant_id"),
    )
    op.create_index("ix_tenant_user_roles_tenant_id", "tenant_user_roles", ["tenant_id"])
    op.create_index("ix_tenant_user_roles_uid", "tenant_user_roles", ["uid"])
    op.create_index("ix_tenant_user_roles_role_id", "tenant_user_roles", ["role_id"])

    now = datetime.now(UTC)
    op.bulk_insert(
        roles,
        [
            {"role_id": rid, "role_name": name, "is_sys_role": True, "ctime": now, "utime": now}
            for rid, name in SYSTEM_ROLES.items()
        ],
    )
    op.execute(
        sa.text(
            "INSERT INTO tenant_user_roles (tenant_id, uid, role_id, ctime, utime) "
            "SELECT tenant_id, id, CASE WHEN is_superuser THEN 'tenant_admin' "
            "ELSE 'developer' END, :now, :now FROM users"
        ).bindparams(now=now)
    )


def downgrade() -> None:
    for table in ("tenant_user_roles", "role_privs", "roles", "module_privs", "permission_modules"):
        op.drop_table(table)
