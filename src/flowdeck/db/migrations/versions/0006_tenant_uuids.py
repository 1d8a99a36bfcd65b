"""tenant ids are uuids; tenants carry the seed's fields; API keys belong to a tenant

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 23:40:00

Every tenant gets a new random uuid, and every row that names a tenant is rewritten to it in
the same transaction: nothing is lost or left pointing at an old id. On SQLite the tables are
rebuilt (batch mode) with foreign keys off for the migration (Database.migrate), and checked
before the commit.
"""

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TENANT_TABLES = (
    "users",
    "projects",
    "flows",
    "flow_versions",
    "flow_templates",
    "chat_sessions",
    "messages",
    "vertex_builds",
    "transactions",
    "runs",
    "files",
    "tenant_user_roles",
    "roles",
)
UUID = sa.String(36)


def _fk(table: str) -> str:
    return f"fk_{table}_tenant_id_tenants"


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    old_ids = [str(row[0]) for row in bind.execute(sa.text("SELECT id FROM tenants"))]
    if postgres:
        for table in TENANT_TABLES:
            op.drop_constraint(_fk(table), table, type_="foreignkey")
        op.alter_column("tenants", "id", server_default=None)
        op.alter_column("tenants", "id", type_=UUID, postgresql_using="id::text")
        op.execute("DROP SEQUENCE IF EXISTS tenants_id_seq")
        for table in TENANT_TABLES:
            op.alter_column(table, "tenant_id", type_=UUID, postgresql_using="tenant_id::text")
    else:
        with op.batch_alter_table("tenants", recreate="always") as batch:
            batch.alter_column("id", type_=UUID, existing_type=sa.Integer(), autoincrement=False)
        for table in TENANT_TABLES:
            with op.batch_alter_table(table, recreate="always") as batch:
                batch.alter_column("tenant_id", type_=UUID, existing_type=sa.Integer())

    with op.batch_alter_table("tenants") as batch:
        batch.add_column(sa.Column("is_sys", sa.Boolean(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("c_uid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("m_uid", sa.Integer(), nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("tenant_id", UUID, nullable=True))

    for old in old_ids:
        new = {"old": old, "new": str(uuid.uuid4())}
        bind.execute(sa.text("UPDATE tenants SET id = :new WHERE id = :old"), new)
        for table in TENANT_TABLES:
            bind.execute(
                sa.text(f"UPDATE {table} SET tenant_id = :new WHERE tenant_id = :old"), new
            )
    # The first tenant holds the first superuser: it is the system tenant.
    bind.execute(
        sa.text(
            "UPDATE tenants SET is_sys = :yes WHERE id IN (SELECT tenant_id FROM users "
            "WHERE is_superuser = :yes)"
        ),
        {"yes": True},
    )
    bind.execute(
        sa.text(
            "UPDATE api_keys SET tenant_id = "
            "(SELECT users.tenant_id FROM users WHERE users.id = api_keys.user_id)"
        )
    )

    if postgres:
        for table in TENANT_TABLES:
            op.create_foreign_key(
                _fk(table), table, "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
            )
    with op.batch_alter_table("api_keys") as batch:
        batch.create_foreign_key(
            "fk_api_keys_tenant_id_tenants", "tenants", ["tenant_id"], ["id"], ondelete="CASCADE"
        )
        batch.create_index("ix_api_keys_tenant_id", ["tenant_id"])


def downgrade() -> None:
    raise RuntimeError("tenant ids cannot go back to integers: restore a backup instead")
