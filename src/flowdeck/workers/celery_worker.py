"""`flowdeck worker`: a Celery worker whose threads hand runs to one asyncio loop."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import sys
import threading
from queue import SimpleQueue
from typing import Any

from celery import Celery, signals

from flowdeck import heap
from flowdeck.runs.states import RunState
from flowdeck.settings import Settings
from flowdeck.workers.celery_app import TASK_NAME, make_celery, queue_name

log = logging.getLogger("flowdeck.worker")


class WorkerRuntime:
    """The worker's services on an event loop in a thread of its own.

    Celery's thread pool gives one thread per run in flight; each just waits for its run's
    coroutine, so every run shares one loop, one database pool and one Redis connection.
    """

    def __init__(self, settings: Settings, name: str) -> None:
        from flowdeck.services.container import Services

        self.settings = settings
        self.loop = _new_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="flowdeck-loop")
        self.thread.daemon = True
        self.services = Services.build(settings, role="worker", worker_name=name)
        self._started = False
        self._tasks: set[asyncio.Task[RunState | None]] = set()

    def start(self) -> None:
        # A line per task received and succeeded costs throughput and says nothing new.
        for name in ("celery.app.trace", "celery.worker.strategy"):
            logging.getLogger(name).setLevel(max(logging.WARNING, logging.getLogger().level))
        self.thread.start()
        self._call(self.services.start())
        heap.settle()  # `flowdeck worker` held collection off for its start-up
        self._started = True
        log.info("worker %s ready", self.services.worker.name)

    def _call(self, coro: Any, timeout: float | None = None) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def execute(self, run_id: str, flow_stamp: str | None = None) -> str | None:
        """Run one run to its end (called from a Celery thread).

        The thread waits on a SimpleQueue rather than a concurrent Future: a put and get of
        the C queue cost far less than the Future's Python-level Condition, once per run.
        """
        done: SimpleQueue[tuple[RunState | None, BaseException | None]] = SimpleQueue()
        self.loop.call_soon_threadsafe(self._start, run_id, flow_stamp, done)
        state, error = done.get()
        if error is not None:
            raise error
        return state.value if state is not None else None

    def _start(
        self,
        run_id: str,
        flow_stamp: str | None,
        done: SimpleQueue[tuple[RunState | None, BaseException | None]],
    ) -> None:
        task = self.loop.create_task(self.services.execute_by_id(run_id, flow_stamp))
        self._tasks.add(task)

        def finished(task: asyncio.Task[RunState | None]) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                done.put((None, asyncio.CancelledError()))
            else:
                error = task.exception()
                done.put((None, error) if error is not None else (task.result(), None))

        task.add_done_callback(finished)

    def hand_back(self) -> None:
        """Hard stop: runs in flight go back to the queue for another worker."""
        self._call(self.services.hand_back_runs(), timeout=30)

    def stop(self) -> None:
        if self._started:
            self._call(self.services.stop(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)


def _new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (as uvicorn's API processes use): cheaper socket I/O."""
    try:
        import uvloop
    except ImportError:  # pragma: no cover - uvloop does not build on every platform
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def build_worker_app(settings: Settings, name: str) -> tuple[Celery, WorkerRuntime]:
    """The Celery app with the run task bound to a runtime built when the worker starts."""
    app = make_celery(settings)
    runtime = WorkerRuntime(settings, name)

    @app.task(name=TASK_NAME, acks_late=True, reject_on_worker_lost=True)  # type: ignore[untyped-decorator]
    def run_task(run_id: str, flow_stamp: str | None = None) -> str | None:
        return runtime.execute(run_id, flow_stamp)

    def on_ready(**_: Any) -> None:
        runtime.start()

    def on_shutting_down(**_: Any) -> None:
        if settings.worker_shutdown == "hard":
            runtime.hand_back()

    def on_shutdown(**_: Any) -> None:
        runtime.stop()

    # weak=False: these closures live only as long as the signal registrations.
    signals.worker_init.connect(on_ready, weak=False)
    signals.worker_shutting_down.connect(on_shutting_down, weak=False)
    signals.worker_shutdown.connect(on_shutdown, weak=False)
    return app, runtime


def worker_command(concurrency: int | None, name: str | None, shutdown: str | None) -> int:
    """Start a Celery worker executing flowdeck runs until SIGTERM (soft stop by default)."""
    heap.hold()
    from flowdeck.settings import SettingsError, load_settings

    if shutdown:
        os.environ["FLOWDECK_WORKER_SHUTDOWN"] = shutdown
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"flowdeck: {exc.message}", file=sys.stderr)
        return 2
    if not settings.broker_url:
        print(
            "flowdeck: `flowdeck worker` needs FLOWDECK_BROKER_URL (and FLOWDECK_REDIS_URL)",
            file=sys.stderr,
        )
        return 2
    logging.basicConfig(
        level=settings.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    node = name or f"flowdeck-{socket.gethostname()}-{os.getpid()}"
    app, _ = build_worker_app(settings, node)
    app.worker_main(
        [
            "worker",
            "--pool=threads",
            f"--concurrency={concurrency or settings.max_concurrent_runs}",
            f"--queues={queue_name(settings)}",
            f"--hostname={node}@%h",
            f"--loglevel={settings.log_level.upper()}",
            "--without-gossip",
            "--without-mingle",
        ]
    )
    return 0
