"""The services one server process holds, wired together and started in order."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from flowdeck.auth.secrets import hash_password
from flowdeck.db.database import Database
from flowdeck.db.models import Tenant, User
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.engine import Engine
from flowdeck.runs.bus import EventBus, MemoryEventBus
from flowdeck.runs.service import RunService
from flowdeck.runs.states import RunState
from flowdeck.services.graphs import DbGraphSource, GraphCache
from flowdeck.settings import Settings
from flowdeck.workers.local import LocalRunQueue
from flowdeck.workers.runner import RunJob, RunWorker

log = logging.getLogger("flowdeck")

DEFAULT_TENANT = "default"


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: Engine
    bus: EventBus
    runs: RunService
    graphs: GraphCache
    worker: RunWorker
    queue: LocalRunQueue
    signing_key: str = ""
    default_tenant_id: int = 1
    extras: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def build(cls, settings: Settings) -> Services:
        db = Database(settings.db_url)
        engine = Engine(
            allow_custom_code=settings.allow_custom_code,
            run_timeout=settings.run_timeout or None,
            vertex_timeout=settings.step_timeout or None,
        )
        bus = MemoryEventBus(retention_seconds=settings.event_retention_seconds)
        store = SqlRunStore(db)
        runs = RunService(store, bus)
        graphs = GraphCache(engine)
        worker = RunWorker(engine, runs, DbGraphSource(db, graphs))
        queue = LocalRunQueue(worker, settings.max_concurrent_runs)
        runs.channel = queue
        return cls(
            settings,
            db,
            engine,
            bus,
            runs,
            graphs,
            worker,
            queue,
            signing_key=settings.signing_key(),
        )

    async def start(self) -> None:
        await self.db.migrate()
        await self._bootstrap()
        await self.queue.start()
        await self._recover()

    async def stop(self) -> None:
        await self.queue.stop()
        await self.engine.aclose()
        await self.bus.close()
        await self.db.dispose()

    async def submit(self, job: RunJob) -> None:
        await self.queue.enqueue(job)

    async def _bootstrap(self) -> None:
        """The default tenant and the first superuser, created when missing."""
        s = self.settings
        async with self.db.session() as session:
            tenant = (
                await session.execute(select(Tenant).where(Tenant.name == DEFAULT_TENANT))
            ).scalar_one_or_none()
            if tenant is None:
                tenant = Tenant(name=DEFAULT_TENANT, code=DEFAULT_TENANT, settings={})
                session.add(tenant)
                await session.flush()
            self.default_tenant_id = tenant.id
            existing = (
                await session.execute(select(User).where(User.username == s.superuser))
            ).scalar_one_or_none()
            if existing is None and (s.superuser_password or s.auto_login):
                session.add(
                    User(
                        tenant_id=tenant.id,
                        username=s.superuser,
                        is_superuser=True,
                        password_hash=hash_password(s.superuser_password or s.superuser),
                    )
                )
                log.info("created superuser %r", s.superuser)

    async def _recover(self) -> None:
        """Requeue queued runs; fail or retry runs that a previous process left running."""
        for run in await self.runs.store.unfinished():
            if run.state == RunState.QUEUED:
                await self.queue.enqueue(RunJob(run))
                continue
            retry = (
                self.settings.on_restart == "retry"
                and (run.attempts or 0) < self.settings.max_run_attempts
            )
            if retry:
                run = await self.runs.transition(run.id, RunState.QUEUED, changes={"worker": None})
                await self.queue.enqueue(RunJob(run))
            else:
                await self.runs.transition(
                    run.id,
                    RunState.FAILED,
                    changes={"error": "the server stopped while this run was in progress"},
                )
