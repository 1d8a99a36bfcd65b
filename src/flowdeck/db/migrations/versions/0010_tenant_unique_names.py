"""project names are unique per owner within a tenant (Langflow's per-user folder names)

Flow slugs and endpoint names are unique per tenant already (0001). Projects had no such
key: rows that clash are renamed first with Langflow's ` (n)` suffix, oldest keeping the name.
API keys made before tenants had none: they acted in their user's default tenant, which is
now written down, so the keys are found under the tenant scope like every other row.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

NAME = "uq_projects_owner_name"


def _rename_clashes() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT id, tenant_id, user_id, name FROM projects "
            "WHERE user_id IS NOT NULL ORDER BY created_at, id"
        )
    ).all()
    taken: dict[tuple[str, int], set[str]] = {}
    for row in rows:
        names = taken.setdefault((str(row.tenant_id), row.user_id), set())
        name, n = row.name, 1
        while name in names:
            name = f"{row.name[:240]} ({n})"
            n += 1
        names.add(name)
        if name != row.name:
            conn.execute(
                sa.text("UPDATE projects SET name = :name WHERE id = :id"),
                {"name": name, "id": row.id},
            )


def upgrade() -> None:
    _rename_clashes()
    op.execute(
        "UPDATE api_keys SET tenant_id = "
        "(SELECT users.tenant_id FROM users WHERE users.id = api_keys.user_id) "
        "WHERE tenant_id IS NULL"
    )
    with op.batch_alter_table("projects") as batch:
        batch.create_unique_constraint(NAME, ["tenant_id", "user_id", "name"])


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_constraint(NAME, type_="unique")
