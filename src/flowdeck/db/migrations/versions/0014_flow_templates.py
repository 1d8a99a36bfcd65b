"""flow templates get the seed's fields: a flow's looks (icon, colours, skill, type) and the
business a business template belongs to; their scope is indexed (every read filters by it)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-04 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_LOOKS = (
    ("flow_skill", sa.Text()),
    ("icon", sa.String(length=255)),
    ("icon_bg_color", sa.String(length=32)),
    ("gradient", sa.String(length=255)),
)


def upgrade() -> None:
    with op.batch_alter_table("flow_templates") as batch:
        for name, kind in _LOOKS:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.add_column(
            sa.Column("flow_type", sa.String(length=32), server_default="", nullable=False)
        )
        batch.add_column(sa.Column("business_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_flow_templates_business_id"), ["business_id"], unique=False)
        batch.create_index(batch.f("ix_flow_templates_scope"), ["scope"], unique=False)
        batch.create_foreign_key(
            batch.f("fk_flow_templates_business_id_businesses"),
            "businesses",
            ["business_id"],
            ["business_id"],
            ondelete="SET NULL",
        )


def downgrade() -> None:
    with op.batch_alter_table("flow_templates") as batch:
        batch.drop_constraint("fk_flow_templates_business_id_businesses", type_="foreignkey")
        batch.drop_index("ix_flow_templates_scope")
        batch.drop_index("ix_flow_templates_business_id")
        for name in ("business_id", "flow_type", *(name for name, _ in _LOOKS)):
            batch.drop_column(name)
