"""Distributed mode: a logout on one API process is refused at once by the other; failed
logins count across both."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from tests.e2e.cluster import Cluster, client

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.timeout(120)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    with Cluster(tmp_path_factory.mktemp("sessions")) as c:
        # A cached user would be trusted for a minute: only the announcement can be this fast.
        c.settings = {"FLOWDECK_AUTH_CACHE_SECONDS": "60", "FLOWDECK_LOGIN_MAX_ATTEMPTS": "3"}
        c.start_api("api1")
        c.start_api("api2")
        yield c


def _login(url: str, username: str, password: str) -> httpx.Response:
    return httpx.post(
        f"{url}/api/v1/login", data={"username": username, "password": password}, timeout=30
    )


def test_logout_on_one_api_is_refused_by_the_other_at_once(cluster: Cluster) -> None:
    api1, api2 = cluster.url("api1"), cluster.url("api2")
    with client(api1) as admin:
        made = admin.post("/api/v1/users/", json={"username": "eve", "password": "eve-pw-123"})
        assert made.status_code == 201, made.text
    tokens = _login(api1, "eve", "eve-pw-123").json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert httpx.get(f"{api2}/api/v1/users/whoami", headers=bearer).status_code == 200
    assert httpx.post(f"{api1}/api/v1/logout", headers=bearer).status_code == 200
    deadline = time.monotonic() + 2
    while httpx.get(f"{api2}/api/v1/users/whoami", headers=bearer).status_code == 200:
        assert time.monotonic() < deadline, "api2 still accepts the revoked token"
        time.sleep(0.02)
    refreshed = httpx.post(
        f"{api2}/api/v1/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert refreshed.status_code == 401


def test_failed_logins_count_across_api_processes(cluster: Cluster) -> None:
    api1, api2 = cluster.url("api1"), cluster.url("api2")
    for url in (api1, api2, api1):
        assert _login(url, "mallory", "guess-1234").status_code == 401
    blocked = _login(api2, "mallory", "guess-1234")
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) > 0
