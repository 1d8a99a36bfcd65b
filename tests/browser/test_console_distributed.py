"""The live console tests again, against distributed mode: two API processes and a worker.

The browser talks to one API process while the runs are started (and the flows created)
through the other, and executed by a Celery worker: what the page shows arrives through
PostgreSQL and Redis, not from the process that started the run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pytest
from bench._server import PASSWORD

from tests.browser.conftest import FAILED, Api, api_of
from tests.browser.test_console import (
    test_a_runs_page_draws_the_graph_that_ran,
    test_answer_a_waiting_step,
    test_playground_streams_tokens_and_steps,
    test_runs_list_updates_live,
)
from tests.e2e.cluster import Cluster

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

__all__ = [
    "test_a_runs_page_draws_the_graph_that_ran",
    "test_answer_a_waiting_step",
    "test_playground_streams_tokens_and_steps",
    "test_runs_list_updates_live",
]


@dataclass(frozen=True)
class Endpoint:
    url: str


def _in_thread(fn: Callable[[], object]) -> None:
    """Cluster set-up and clean-up call asyncio.run, which Playwright's running loop in this
    thread would refuse; another thread has no loop."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(fn).result()


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    c = Cluster(tmp_path_factory.mktemp("console-cluster"))
    c.settings = {
        "FLOWDECK_SUPERUSER_PASSWORD": PASSWORD,
        "FLOWDECK_ALLOW_PRIVATE_NETWORKS": "true",
    }
    _in_thread(c.__enter__)
    try:
        c.start_api("api1")
        c.start_api("api2")
        c.start_worker("w1", 8)
        yield c
    finally:
        _in_thread(lambda: c.__exit__(None, None, None))


@pytest.fixture(autouse=True)
def logs_on_failure(request: pytest.FixtureRequest, cluster: Cluster) -> Iterator[None]:
    """A failed test's report ends with what each process of the cluster logged."""
    yield
    if request.node.stash.get(FAILED, False):
        for name in cluster.procs:
            print(f"--- {name} (last 4,000 characters of its log) ---\n{cluster.log(name)}")


@pytest.fixture(scope="module")
def server(cluster: Cluster) -> Endpoint:
    """The API process the browser uses."""
    return Endpoint(cluster.url("api1"))


@pytest.fixture(scope="module")
def api(cluster: Cluster) -> Iterator[Api]:
    """The other API process: flows are created and runs started through it."""
    with api_of(cluster.url("api2")) as client:
        yield client
