"""marks of applied run-store batches, for retries after a dropped connection

Revision ID: 0004_run_store_batches
Revises: 0003_token_version
Create Date: 2026-12-01 22:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_run_store_batches"
down_revision: str | None = "0003_token_version"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "run_store_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("op", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", "op", name=op.f("pk_run_store_batches")),
    )


def downgrade() -> None:
    op.drop_table("run_store_batches")
