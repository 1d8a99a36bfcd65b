"""Monitor records (messages, vertex builds, transactions) and the retention deletes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.models import ChatSession, MessageRecord, Run, Transaction, VertexBuild
from flowdeck.db.models.runs import PUBLIC_CLIENT
from flowdeck.db.repositories.base import M, Repository
from flowdeck.runs.states import TERMINAL

MESSAGE_ORDER = {
    "timestamp": MessageRecord.timestamp,
    "id": MessageRecord.id,
    "flow_id": MessageRecord.flow_id,
    "session_id": MessageRecord.session_id,
    "sender": MessageRecord.sender,
    "sender_name": MessageRecord.sender_name,
    "text": MessageRecord.text,
    "category": MessageRecord.category,
}


class _Monitor(Repository[M]):
    """Scoped deletes as one statement: `DELETE ... WHERE pk IN (scoped SELECT pk)`."""

    async def delete_where(self, *conditions: Any) -> int:
        pk = self.model.__mapper__.primary_key[0]
        chosen = self.scoped(select(pk)).where(*conditions)
        stmt = delete(self.model).where(pk.in_(chosen)).execution_options(synchronize_session=False)
        result: Any = await self.session.execute(stmt)
        return int(result.rowcount or 0)


class ChatSessionRepository(_Monitor[ChatSession]):
    model = ChatSession
    label = "session"

    async def named(self, session_id: str) -> ChatSession | None:
        rows = await self.list(ChatSession.session_id == session_id, limit=1)
        return rows[0] if rows else None

    async def ids(self, flow_id: str | None = None) -> list[str]:
        """Session ids created by the caller (of one flow, if given), oldest first."""
        conditions = [ChatSession.flow_id == flow_id] if flow_id else []
        rows = await self.list(*conditions, order_by=(ChatSession.created_at, ChatSession.id))
        return [r.session_id for r in rows]


class MessageRepository(_Monitor[MessageRecord]):
    model = MessageRecord
    label = "message"

    async def search(
        self,
        *,
        flow_id: str | None = None,
        session_id: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
        order_by: str = "timestamp",
        descending: bool = False,
        public_client: str | None = None,
    ) -> list[MessageRecord]:
        conditions: list[ColumnElement[bool]] = []
        if public_client is not None:
            # Only messages of the runs build_public_tmp started for this client_id cookie.
            runs = select(Run.id).where(
                Run.meta[PUBLIC_CLIENT].as_string() == public_client,
                *([Run.flow_id == flow_id] if flow_id else []),
            )
            conditions.append(MessageRecord.run_id.in_(runs))
        if flow_id:
            conditions.append(MessageRecord.flow_id == flow_id)
        if session_id:
            conditions.append(MessageRecord.session_id == session_id)
        if sender:
            conditions.append(MessageRecord.sender == sender)
        if sender_name:
            conditions.append(MessageRecord.sender_name == sender_name)
        column = MESSAGE_ORDER[order_by]
        # Messages of one run share a timestamp to the microsecond at most; the id keeps
        # the order stable between calls.
        order = (column.desc() if descending else column.asc(), MessageRecord.id)
        return await self.list(*conditions, order_by=order)

    async def sessions(self, flow_id: str | None = None) -> list[str]:
        """Distinct non-empty session ids, the oldest session first."""
        stmt = self.scoped(select(MessageRecord.session_id)).where(MessageRecord.session_id != "")
        if flow_id:
            stmt = stmt.where(MessageRecord.flow_id == flow_id)
        stmt = stmt.group_by(MessageRecord.session_id).order_by(
            func.min(MessageRecord.timestamp), MessageRecord.session_id
        )
        return list((await self.session.execute(stmt)).scalars())

    async def in_session(self, session_id: str) -> list[MessageRecord]:
        return await self.list(
            MessageRecord.session_id == session_id,
            order_by=(MessageRecord.timestamp, MessageRecord.id),
        )

    async def move_session(self, old: str, new: str) -> int:
        """Give every message of session `old` the session id `new`; how many moved."""
        chosen = self.scoped(select(MessageRecord.id)).where(MessageRecord.session_id == old)
        stmt = (
            update(MessageRecord)
            .where(MessageRecord.id.in_(chosen))
            .values(session_id=new)
            .execution_options(synchronize_session=False)
        )
        result: Any = await self.session.execute(stmt)
        return int(result.rowcount or 0)


class VertexBuildRepository(_Monitor[VertexBuild]):
    model = VertexBuild
    label = "vertex build"

    async def of_flow(self, flow_id: str) -> list[VertexBuild]:
        return await self.list(
            VertexBuild.flow_id == flow_id, order_by=(VertexBuild.timestamp, VertexBuild.build_id)
        )


class TransactionRepository(_Monitor[Transaction]):
    model = Transaction
    label = "transaction"

    async def page_of_flow(self, flow_id: str, offset: int, limit: int) -> list[Transaction]:
        return await self.list(
            Transaction.flow_id == flow_id,
            offset=offset,
            limit=limit,
            order_by=(Transaction.timestamp, Transaction.id),
        )


MonitorModel = type[MessageRecord] | type[VertexBuild] | type[Transaction]


class RetentionRepository:
    """System-wide deletes of the oldest records beyond a limit (no scope: housekeeping)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def prune_per_flow(self, model: MonitorModel, keep: int) -> int:
        """Keep the newest `keep` rows of each flow; one DELETE whatever the number of flows."""
        pk = model.__mapper__.primary_key[0]
        crowded = select(model.flow_id).group_by(model.flow_id).having(func.count() > keep)
        ranked = (
            select(
                pk.label("pk"),
                func.row_number()
                .over(partition_by=model.flow_id, order_by=(model.timestamp.desc(), pk.desc()))
                .label("row_no"),
            )
            # Only flows over the limit are ranked; the few rows without a flow always are.
            .where(or_(model.flow_id.in_(crowded), model.flow_id.is_(None)))
            .subquery()
        )
        doomed = select(ranked.c.pk).where(ranked.c.row_no > keep)
        return await self._delete(delete(model).where(pk.in_(doomed)))

    async def prune_runs(self, keep: int) -> int:
        """Keep the `keep` newest finished runs; runs not yet finished are never touched."""
        finished = Run.state.in_(sorted(s.value for s in TERMINAL))
        doomed = (
            select(Run.id)
            .where(finished)
            .order_by(Run.created_at.desc(), Run.id.desc())
            .offset(keep)
        )
        # `finished` again on the outer statement: it is what guards unfinished runs.
        return await self._delete(delete(Run).where(Run.id.in_(doomed), finished))

    async def _delete(self, stmt: Any) -> int:
        result: Any = await self.session.execute(stmt.execution_options(synchronize_session=False))
        return int(result.rowcount or 0)
