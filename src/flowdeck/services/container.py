"""The services one server process holds, wired together and started in order."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from flowdeck.access.principal import principal_cache
from flowdeck.auth.sealing import SecretBox
from flowdeck.auth.secrets import configure_password_hashing, hash_password
from flowdeck.datadir import private_dir, private_sqlite
from flowdeck.db.database import Database
from flowdeck.db.repositories.runs import SqlRunStore
from flowdeck.engine import Engine
from flowdeck.engine.netpolicy import NetworkPolicy
from flowdeck.runs.bus import EventBus, MemoryEventBus
from flowdeck.runs.caps import RecordCaps
from flowdeck.runs.queue import RunQueue
from flowdeck.runs.service import RunService
from flowdeck.runs.states import RunState, on_hold
from flowdeck.services.bootstrap import ensure_defaults
from flowdeck.services.first_start import FirstPassword, first_password
from flowdeck.services.graphs import DbGraphSource, GraphCache
from flowdeck.services.registry_lookup import DbRegistries
from flowdeck.settings import Settings
from flowdeck.storage import LocalStorage, Storage
from flowdeck.workers.local import LocalRunQueue
from flowdeck.workers.runner import RunJob, RunWorker

if TYPE_CHECKING:
    from flowdeck.runs.pubsub import Subscriber
    from flowdeck.services.retention import RetentionTask
    from flowdeck.workers.leases import LeaseKeeper, Reaper

log = logging.getLogger("flowdeck")


def storage_for(settings: Settings) -> Storage:
    """Where uploads go: `<data_dir>/files`, or the S3 bucket every API process shares."""
    if settings.storage == "local":
        return LocalStorage(settings.data_dir / "files")
    # Imported only when used: botocore takes a while to load (CLI and server start-up).
    from flowdeck.storage.s3 import S3Storage

    return S3Storage(
        settings.s3_bucket,
        prefix=settings.s3_prefix,
        endpoint_url=settings.s3_endpoint_url,
        region=settings.s3_region,
        access_key_id=settings.s3_access_key_id,
        secret_access_key=settings.s3_secret_access_key,
    )


@dataclass
class Services:
    settings: Settings
    db: Database
    engine: Engine
    bus: EventBus
    runs: RunService
    graphs: GraphCache
    worker: RunWorker
    queue: RunQueue
    signing_key: str = ""
    default_tenant_id: str = ""
    role: Literal["api", "worker"] = "api"
    storage: Storage | None = None
    subscriber: Subscriber | None = None
    reaper: Reaper | None = None
    lease_keeper: LeaseKeeper | None = None
    retention: RetentionTask | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    # Seals and opens the registries' secrets (provider API keys, MCP env and headers).
    secrets: SecretBox | None = None
    _prehash: Future[str] | None = field(default=None, repr=False)
    _first: FirstPassword | None = field(default=None, repr=False)

    @classmethod
    def build(
        cls,
        settings: Settings,
        role: Literal["api", "worker"] = "api",
        worker_name: str = "local",
    ) -> Services:
        """Embedded (in-process queue and bus) unless a broker and Redis are configured."""
        configure_password_hashing(
            settings.password_hash_time_cost,
            settings.password_hash_memory_kib,
            settings.password_hash_parallelism,
        )
        db = Database(settings.db_url, close_timeout=settings.db_close_timeout)
        engine = Engine(
            allow_custom_code=settings.allow_custom_code,
            run_timeout=settings.run_timeout or None,
            vertex_timeout=settings.step_timeout or None,
            network=NetworkPolicy(settings.private_networks_allowed, settings.host, settings.port),
        )
        graphs = GraphCache(engine)
        caps = RecordCaps(settings.max_run_output_bytes, settings.max_monitor_record_bytes)
        if not settings.distributed:
            bus = MemoryEventBus(retention_seconds=settings.event_retention_seconds)
            runs = RunService(SqlRunStore(db), bus)
            worker = RunWorker(engine, runs, DbGraphSource(db, graphs), name=worker_name, caps=caps)
            queue = LocalRunQueue(worker, settings.max_concurrent_runs)
            runs.channel = queue
            key = settings.signing_key()
            services = cls(settings, db, engine, bus, runs, graphs, worker, queue, key)
        else:
            services = cls._distributed(settings, role, worker_name, db, engine, graphs, caps)
        # Only API processes serve files: a worker needs no access to the object store.
        services.storage = storage_for(settings) if role == "api" else None
        services.secrets = SecretBox(settings.sealing_secret())
        engine.registries = DbRegistries(db, services.secrets)
        return services

    @classmethod
    def _distributed(
        cls,
        settings: Settings,
        role: Literal["api", "worker"],
        worker_name: str,
        db: Database,
        engine: Engine,
        graphs: GraphCache,
        caps: RecordCaps,
    ) -> Services:
        from redis.asyncio import Redis

        from flowdeck.runs.pubsub import Subscriber
        from flowdeck.runs.redis_bus import RedisEventBus
        from flowdeck.workers.celery_app import CeleryRunQueue, make_celery
        from flowdeck.workers.control import RedisControlChannel
        from flowdeck.workers.leases import LeaseKeeper, Reaper

        redis = Redis.from_url(settings.redis_url)
        prefix = settings.redis_prefix
        subscriber = Subscriber(redis, home=f"{prefix}:subscriber")
        bus = RedisEventBus(
            redis, subscriber, prefix=prefix, retention_seconds=settings.event_retention_seconds
        )
        runs = RunService(SqlRunStore(db), bus)
        lease = settings.lease_seconds
        worker = RunWorker(
            engine,
            runs,
            DbGraphSource(db, graphs),
            name=worker_name,
            lease_seconds=lease,
            caps=caps,
        )
        queue = CeleryRunQueue(make_celery(settings))
        holder = worker if role == "worker" else None
        runs.channel = RedisControlChannel(redis, subscriber, prefix=prefix, worker=holder)
        reaper = Reaper(
            db,
            runs,
            queue.dispatch,
            lease_seconds=lease,
            max_attempts=settings.max_run_attempts,
            requeue_after=settings.requeue_after,
            bus=bus,
        )
        services = cls(settings, db, engine, bus, runs, graphs, worker, queue, role=role)
        services.signing_key = settings.signing_key() if role == "api" else ""
        services.subscriber, services.reaper = subscriber, reaper
        services.lease_keeper = LeaseKeeper(db, worker, lease) if role == "worker" else None
        services.extras["redis"] = redis
        if role == "api":
            # A role or binding changed in any process: every process drops its principals.
            principals = principal_cache(services)
            subscriber.on(principals.channel, principals.clear)
        return services

    def prepare(self) -> None:
        """Begin the start-up work that needs no event loop, in a thread (see `start`).

        On a new SQLite database the superuser is surely missing: its password hash (argon2,
        ~0.2 s of CPU, which releases the GIL) is computed while the app is being built.
        """
        if self._prehash is None and self._new_sqlite_database():
            pool = ThreadPoolExecutor(1, thread_name_prefix="flowdeck-start")
            self._prehash = pool.submit(hash_password, self._first_password().value)
            pool.shutdown(wait=False)  # the hash runs on; the thread ends with it

    async def start(self) -> None:
        self.prepare()  # when create_app has not already begun it
        private_dir(self.settings.data_dir)
        private_sqlite(self.db.url)
        if self.role == "api":
            from flowdeck.services import accounts

            accounts.attach(self)  # before the subscriber starts: it listens for user changes
        await self.db.migrate()
        if self.storage is not None:
            await self.storage.start()
        if self.role == "api":
            prehash, self._prehash = self._prehash, None
            self.default_tenant_id = await ensure_defaults(
                self.db,
                self.settings,
                self._first_password,
                asyncio.wrap_future(prehash) if prehash else None,
            )
        if self.subscriber is not None:
            await self.subscriber.start()
        await self.queue.start()
        if self.role == "api":
            from flowdeck.services.retention import RetentionTask

            self.retention = RetentionTask(self)
            await self.retention.start()
        if self.reaper is None:
            await self._recover()
            return
        # Distributed: nothing is "left over" at start; lapsed leases show what was lost.
        self.reaper.start()
        if self.lease_keeper is not None:
            self.lease_keeper.start()

    async def stop(self) -> None:
        if self.retention is not None:
            await self.retention.stop()
        await self.worker.progress.stop()
        for periodic in (self.lease_keeper, self.reaper):
            if periodic is not None:
                await periodic.stop()
        await self.queue.stop()
        await self.engine.aclose()
        await self.bus.close()
        if self.subscriber is not None:
            await self.subscriber.stop()
        redis = self.extras.get("redis")
        if redis is not None:
            await redis.aclose()
        if self.storage is not None:
            await self.storage.close()
        await self.db.dispose()

    async def execute_by_id(self, run_id: str, flow_stamp: str | None = None) -> RunState | None:
        """Execute a queued run by id (a Celery task); None when it was no longer queued."""
        if self.worker.draining:
            run = await self.runs.store.get(run_id)
            if run is not None and run.state == RunState.QUEUED:
                # For a worker that is not stopping.
                await self.queue.enqueue(RunJob(run, flow_stamp=flow_stamp))
            return None
        return await self.worker.execute_id(run_id, flow_stamp=flow_stamp)

    async def hand_back_runs(self) -> int:
        """Return the runs in flight here to the queue (a hard stop of this worker)."""
        self.worker.draining = True
        count = await self._hand_back()
        # A run claimed just before `draining` was set registers its control a moment later.
        await asyncio.sleep(0.5)
        return count + await self._hand_back()

    async def _hand_back(self) -> int:
        count = 0
        for run_id, control in list(self.worker.controls.items()):
            if run_id in self.worker.lost:
                continue
            self.worker.lost.add(run_id)
            try:
                run = await self.runs.transition(
                    run_id,
                    RunState.QUEUED,
                    expect=[s for s in RunState if s.active],
                    changes={"worker": None, "lease_until": None, "waiting_on": None},
                )
            except Exception:
                log.exception("could not hand back run %s", run_id)
                continue
            control.cancel("the worker is stopping; the run goes to another worker")
            await self.queue.enqueue(RunJob(run))
            count += 1
        return count

    async def submit(self, job: RunJob) -> None:
        await self.queue.enqueue(job)

    def _new_sqlite_database(self) -> bool:
        target = self.db.sqlite
        if self.role != "api" or target is None or target.path is None:
            return False
        return bool(target.path.name) and not target.path.exists()

    def _first_password(self) -> FirstPassword:
        if self._first is None:
            self._first = first_password(self.settings)
        return self._first

    async def _recover(self) -> None:
        """Requeue queued runs; fail or retry runs that a previous process left running."""
        for run in await self.runs.store.unfinished():
            if run.state == RunState.QUEUED:
                if not on_hold(run.meta):
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
