"""Runs: one execution of a flow, whatever started it and however it is watched."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, Owned, RowScope, Timestamps, UTCDateTime, uuid_pk

# Run.meta key of runs that build_public_tmp started: the client_id cookie they belong to.
PUBLIC_CLIENT = "public_client_id"


class Run(Owned, Timestamps, Base):
    __tablename__ = "runs"
    __scope__ = RowScope.TENANT_OWNER
    __table_args__ = (
        Index("ix_runs_state", "state"),
        Index("ix_runs_flow_created", "flow_id", "created_at"),
        Index("ix_runs_tenant_created", "tenant_id", "created_at"),
    )

    id: Mapped[str] = uuid_pk()
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    flow_version_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flow_type: Mapped[str] = mapped_column(String(32), default="automation")
    trigger: Mapped[str] = mapped_column(String(16), default="api")
    state: Mapped[str] = mapped_column(String(16), default="queued")
    progress: Mapped[float] = mapped_column(Float, default=0.0)
    request: Mapped[dict[str, Any]] = mapped_column(default=dict)
    graph: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    steps: Mapped[list[Any]] = mapped_column(default=list)
    logs: Mapped[list[Any]] = mapped_column(default=list)
    outputs: Mapped[dict[str, Any] | None] = mapped_column(nullable=True)
    tags: Mapped[list[Any]] = mapped_column(default=list)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(255), nullable=True, index=True)
    waiting_on: Mapped[str | None] = mapped_column(String(255), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    worker: Mapped[str | None] = mapped_column(String(255), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    updated_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class RunStoreBatch(Base):
    """A write of a run-store batch that took effect, stored in the batch's own transaction.

    PostgreSQL's run writer reads these after a dropped connection to tell a batch that
    committed (its answer lost) from one that did not. Kept for minutes, then pruned.
    """

    __tablename__ = "run_store_batches"
    __scope__ = RowScope.GLOBAL  # the run store's own bookkeeping, read by no request

    # The batch: hex of the nanosecond clock then random hex, so pruning is a key range.
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    op: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime())
