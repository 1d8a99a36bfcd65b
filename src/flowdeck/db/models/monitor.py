"""Langflow's monitor records: messages (and sessions), vertex builds and transactions."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from flowdeck.db.base import Base, Owned, RowScope, UTCDateTime, utcnow, uuid_pk


class ChatSession(Owned, Base):
    """A session created before (or without) messages; others exist through their messages."""

    __tablename__ = "chat_sessions"
    __scope__ = RowScope.TENANT_OWNER
    __table_args__ = (
        UniqueConstraint("tenant_id", "user_id", "session_id", name="uq_chat_sessions_owner"),
    )

    id: Mapped[str] = uuid_pk()
    session_id: Mapped[str] = mapped_column(String(255))
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class MessageRecord(Owned, Base):
    __tablename__ = "messages"
    __scope__ = RowScope.TENANT_OWNER
    __table_args__ = (Index("ix_messages_flow_session", "flow_id", "session_id"),)

    id: Mapped[str] = uuid_pk()
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    session_id: Mapped[str] = mapped_column(String(255), default="")
    sender: Mapped[str] = mapped_column(String(32), default="Machine")
    sender_name: Mapped[str] = mapped_column(String(255), default="AI")
    text: Mapped[str] = mapped_column(Text, default="")
    files: Mapped[list[Any]] = mapped_column(default=list)
    properties: Mapped[dict[str, Any]] = mapped_column(default=dict)
    category: Mapped[str] = mapped_column(String(32), default="message")
    error: Mapped[bool] = mapped_column(Boolean, default=False)
    edit: Mapped[bool] = mapped_column(Boolean, default=False)
    component_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class VertexBuild(Owned, Base):
    __tablename__ = "vertex_builds"
    __scope__ = RowScope.TENANT_OWNER
    __table_args__ = (Index("ix_vertex_builds_flow", "flow_id", "timestamp"),)

    build_id: Mapped[str] = uuid_pk()
    id: Mapped[str] = mapped_column(String(255))
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    params: Mapped[str | None] = mapped_column(Text, nullable=True)
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    artifacts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Transaction(Owned, Base):
    __tablename__ = "transactions"
    __scope__ = RowScope.TENANT_OWNER
    __table_args__ = (Index("ix_transactions_flow", "flow_id", "timestamp"),)

    id: Mapped[str] = uuid_pk()
    flow_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    run_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    vertex_id: Mapped[str] = mapped_column(String(255))
    target_id: Mapped[str | None] = mapped_column(String(255), nullable=True)
    inputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    outputs: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    timestamp: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
