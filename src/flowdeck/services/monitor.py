"""Monitor decisions: what a caller may see and change of messages, builds and transactions."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from flowdeck.db.base import new_id
from flowdeck.db.models import Transaction
from flowdeck.db.repositories.base import Scope
from flowdeck.db.repositories.monitor import (
    MESSAGE_ORDER,
    ChatSessionRepository,
    MessageRepository,
    TransactionRepository,
    VertexBuildRepository,
)
from flowdeck.errors import ConflictError, InvalidInputError, NotFoundError
from flowdeck.schemas.monitor import (
    MessageRead,
    MessageUpdate,
    Page,
    SessionCreate,
    SessionRead,
    TransactionRead,
    VertexBuildMap,
    VertexBuildRead,
)

SESSION_ID_MAX = 255


def parse_order(order_by: str | None) -> tuple[str, bool]:
    """`column` ascending or `-column` descending; Langflow's default is the timestamp."""
    value = (order_by or "timestamp").strip()
    descending = value.startswith("-")
    column = value.lstrip("-")
    if column not in MESSAGE_ORDER:
        allowed = ", ".join(sorted(MESSAGE_ORDER))
        raise InvalidInputError(
            f"cannot order messages by {column!r}; use one of {allowed} (prefix '-' to reverse)",
            field="order_by",
        )
    return column, descending


class MonitorService:
    """The monitor records a scope can see: its own, or its tenant's for a superuser."""

    def __init__(self, session: AsyncSession, scope: Scope) -> None:
        self.messages = MessageRepository(session, scope)
        self.chat_sessions = ChatSessionRepository(session, scope)
        self.builds = VertexBuildRepository(session, scope)
        self.transactions = TransactionRepository(session, scope)

    async def list_messages(
        self,
        *,
        flow_id: str | None = None,
        session_id: str | None = None,
        sender: str | None = None,
        sender_name: str | None = None,
        order_by: str | None = None,
        public_client: str | None = None,
    ) -> list[MessageRead]:
        """Messages matching the filters; with `public_client`, only those of the public
        builds started for that client_id cookie."""
        column, descending = parse_order(order_by)
        rows = await self.messages.search(
            flow_id=flow_id,
            session_id=session_id,
            sender=sender,
            sender_name=sender_name,
            order_by=column,
            descending=descending,
            public_client=public_client,
        )
        return [MessageRead.model_validate(r) for r in rows]

    async def update_message(self, message_id: str, change: MessageUpdate) -> MessageRead:
        row = await self.messages.get(message_id)
        values = change.model_dump(exclude_unset=True, exclude_none=True)
        # As in Langflow: changing the text marks the message as edited.
        if "text" in values and values["text"] != row.text:
            values["edit"] = True
        await self.messages.update(row, values)
        return MessageRead.model_validate(row)

    async def delete_messages(self, message_ids: Sequence[str]) -> int:
        """Delete the caller's messages among `message_ids`; others' ids are ignored."""
        if not message_ids:
            return 0
        return await self.messages.delete_where(self.messages.model.id.in_(list(message_ids)))

    async def sessions(self, flow_id: str | None = None) -> list[str]:
        """Session ids with messages, then those created and still without messages."""
        with_messages = await self.messages.sessions(flow_id)
        seen = set(with_messages)
        created = [s for s in await self.chat_sessions.ids(flow_id) if s not in seen]
        return with_messages + created

    async def create_session(self, new: SessionCreate) -> SessionRead:
        """Create a session before its first message; 409 if the id is already in use."""
        session_id = (new.session_id or "").strip() or new_id()
        taken = await self.chat_sessions.named(session_id) or await self.messages.in_session(
            session_id
        )
        if taken:
            raise ConflictError(f"session {session_id!r} already exists", field="session_id")
        row = await self.chat_sessions.create(
            session_id=session_id,
            flow_id=str(new.flow_id) if new.flow_id else None,
            name=new.name,
        )
        return SessionRead.model_validate(row)

    async def rename_session(self, old: str, new: str | None) -> list[MessageRead]:
        """Move every message of session `old` to session `new`; the moved messages."""
        new = (new or "").strip()
        if not new:
            raise InvalidInputError("give the new session id", field="new_session_id")
        if len(new) > SESSION_ID_MAX:
            raise InvalidInputError(
                f"a session id has at most {SESSION_ID_MAX} characters", field="new_session_id"
            )
        rows = await self.messages.in_session(old)
        created = await self.chat_sessions.named(old)
        if not rows and created is None:
            raise NotFoundError(
                f"no messages found with session id {old!r}", field="old_session_id"
            )
        if new != old:
            if await self.chat_sessions.named(new) is not None:
                raise ConflictError(f"session {new!r} already exists", field="new_session_id")
            await self.messages.move_session(old, new)
            if created is not None:
                await self.chat_sessions.update(created, {"session_id": new})
        return [MessageRead.model_validate(r).model_copy(update={"session_id": new}) for r in rows]

    async def delete_session(self, session_id: str) -> int:
        """Delete the caller's session and its messages; 404 when the caller has no such session."""
        created = await self.chat_sessions.delete_where(
            self.chat_sessions.model.session_id == session_id
        )
        deleted = await self.messages.delete_where(self.messages.model.session_id == session_id)
        if not created and not deleted:
            raise NotFoundError(f"session {session_id} not found", field="session_id")
        return deleted

    async def vertex_builds(self, flow_id: str) -> VertexBuildMap:
        rows = await self.builds.of_flow(flow_id)
        return VertexBuildMap.of([VertexBuildRead.model_validate(r) for r in rows])

    async def delete_vertex_builds(self, flow_id: str) -> int:
        return await self.builds.delete_where(self.builds.model.flow_id == flow_id)

    async def transactions_page(self, flow_id: str, page: int, size: int) -> Page[TransactionRead]:
        total = await self.transactions.count(Transaction.flow_id == flow_id)
        rows = await self.transactions.page_of_flow(flow_id, (page - 1) * size, size)
        items = [TransactionRead.model_validate(r) for r in rows]
        return Page[TransactionRead].of(items, total, page, size)
