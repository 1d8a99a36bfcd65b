"""Celery for the distributed mode: the app, the queue API processes send to, the run task."""

from __future__ import annotations

import asyncio
import logging

from celery import Celery

from flowdeck.db.models import Run
from flowdeck.settings import Settings
from flowdeck.workers.runner import RunJob

log = logging.getLogger("flowdeck.celery")

TASK_NAME = "flowdeck.run"


def queue_name(settings: Settings) -> str:
    """One queue per prefix, so deployments (and test runs) sharing a broker never mix."""
    return f"{settings.redis_prefix}.runs"


def make_celery(settings: Settings) -> Celery:
    """A Celery app whose messages are acknowledged only once a run has finished."""
    app = Celery("flowdeck", broker=settings.broker_url, set_as_current=False)
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
    """The run queue of API processes in distributed mode: runs go to Celery by id."""

    def __init__(self, celery: Celery) -> None:
        self.celery = celery
        self.queue = celery.conf.task_default_queue
        self.busy = 0
        self.depth = 0
        self.alive = True

    async def start(self) -> None:
        # Open the broker connection now rather than on the first run.
        await asyncio.to_thread(self._connect)

    def _connect(self) -> None:
        with self.celery.connection_for_write() as conn:
            conn.ensure_connection(max_retries=3)

    async def enqueue(self, job: RunJob) -> None:
        await self.dispatch(job.run, job.flow_stamp)

    def reserve(self) -> bool:
        return False  # runs go to whichever worker takes them: none is claimed here

    def release(self) -> None:
        pass

    async def dispatch(self, run: Run, flow_stamp: str | None = None) -> None:
        # kombu's publish is blocking I/O; keep it off the event loop.
        await asyncio.to_thread(self._send, run.id, flow_stamp)

    def _send(self, run_id: str, flow_stamp: str | None) -> None:
        args = [run_id, flow_stamp] if flow_stamp else [run_id]
        self.celery.send_task(TASK_NAME, args=args, queue=self.queue)

    async def stop(self, grace: float = 10.0) -> None:
        await asyncio.to_thread(self.celery.close)
