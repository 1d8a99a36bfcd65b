"""Celery for the distributed mode: the app, the queue API processes send to, the run task."""

from __future__ import annotations

import asyncio
import logging
import threading
from dataclasses import dataclass
from queue import SimpleQueue

from celery import Celery

from flowdeck.db.models import Run
from flowdeck.settings import Settings
from flowdeck.workers.broker import transport_for
from flowdeck.workers.runner import RunJob

log = logging.getLogger("flowdeck.celery")

TASK_NAME = "flowdeck.run"


def queue_name(settings: Settings) -> str:
    """One queue per prefix, so deployments (and test runs) sharing a broker never mix."""
    return f"{settings.redis_prefix}.runs"


def make_celery(settings: Settings) -> Celery:
    """A Celery app whose messages are acknowledged only once a run has finished."""
    app = Celery("flowdeck", broker=settings.broker_url, set_as_current=False)
    transport = transport_for(settings.broker_url or "")
    if transport is not None:
        app.conf.broker_transport = transport
    app.conf.update(
        task_default_queue=queue_name(settings),
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        # Late acknowledgement: a message is done when its run is, so a lost worker loses
        # nothing; duplicates are harmless because only a queued run can be claimed.
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        broker_transport_options={
            "visibility_timeout": settings.broker_visibility_timeout,
            # Redis broker: every key under the deployment's prefix.
            "global_keyprefix": f"{settings.redis_prefix}:celery:",
        },
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        task_send_sent_event=False,
    )
    return app


class CeleryRunQueue:
    """The run queue of API processes in distributed mode: runs go to Celery by id.

    kombu publishes with blocking I/O, so one publisher thread sends for the whole process:
    every message waiting when it wakes goes out in one producer batch (one Redis pipeline),
    so under load a round trip and a broker client serve many runs, and alone a message
    waits for nobody.
    """

    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        self.queue = celery.conf.task_default_queue
        self.busy = 0
        self.depth = 0
        self.alive = True
        self._outbox: SimpleQueue[_Send | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    async def start(self) -> None:
        # Open the broker connection now rather than on the first run.
        await self._submit(None)

    async def enqueue(self, job: RunJob) -> None:
        await self.dispatch(job.run, job.flow_stamp)

    def reserve(self) -> bool:
        return False  # runs go to whichever worker takes them: none is claimed here

    def release(self) -> None:
        pass

    async def dispatch(self, run: Run, flow_stamp: str | None = None) -> None:
        await self._submit([run.id, flow_stamp] if flow_stamp else [run.id])

    async def _submit(self, args: list[str] | None) -> None:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[None] = loop.create_future()
        if self._thread is None or not self._thread.is_alive():
            self._thread = threading.Thread(
                target=self._publish_loop, name="flowdeck-celery-publisher", daemon=True
            )
            self._thread.start()
        self._outbox.put(_Send(args, loop, future))
        await future

    def _publish_loop(self) -> None:
        while True:
            first = self._outbox.get()
            if first is None:
                return
            batch = [first]
            while not self._outbox.empty():
                item = self._outbox.get_nowait()
                if item is None:
                    self._outbox.put(None)  # stop once this batch is out
                    break
                batch.append(item)
            error = self._publish(batch)
            for send in batch:
                send.loop.call_soon_threadsafe(_settle, send.future, error)

    def _publish(self, batch: list[_Send]) -> BaseException | None:
        try:
            with self.celery.producer_or_acquire() as producer:
                if any(send.args is None for send in batch):
                    producer.connection.ensure_connection(max_retries=3)
                with producer.batch():
                    for send in batch:
                        if send.args is not None:
                            self.celery.send_task(
                                TASK_NAME, args=send.args, queue=self.queue, producer=producer
                            )
        except Exception as exc:  # each waiting caller gets it; the thread goes on
            log.warning("could not send runs to the broker: %s", exc)
            return exc
        return None

    async def stop(self, grace: float = 10.0) -> None:
        if self._thread is not None:
            self._outbox.put(None)
            await asyncio.to_thread(self._thread.join, grace)
        await asyncio.to_thread(self.celery.close)


@dataclass(slots=True)
class _Send:
    args: list[str] | None  # None: only connect
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[None]


def _settle(future: asyncio.Future[None], error: BaseException | None) -> None:
    if future.done():
        return
    if error is None:
        future.set_result(None)
    else:
        future.set_exception(error)
