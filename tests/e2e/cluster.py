"""A distributed flowdeck for tests: API processes and Celery workers on PostgreSQL and Redis."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from tests.conftest import CHEAP_HASHING
from tests.e2e.cli_support import COMMAND

PG_ADMIN_URL = os.environ.get("FLOWDECK_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("FLOWDECK_TEST_REDIS", "redis://127.0.0.1:6379/0")
PASSWORD = "cluster-password"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _pg(sql: str) -> None:
    import asyncpg

    async def run() -> None:
        conn = await asyncpg.connect(PG_ADMIN_URL)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


def _drop_redis_keys(prefix: str) -> None:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(f"{prefix}*", count=1000))
    for i in range(0, len(keys), 500):
        client.delete(*keys[i : i + 500])
    client.close()


@dataclass
class Cluster:
    """Processes of one distributed deployment, with its own database and Redis prefix."""

    tmp: Path
    prefix: str = field(default_factory=lambda: f"fdtest{uuid.uuid4().hex[:10]}")
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)

    @property
    def database(self) -> str:
        return f"{self.prefix}_db"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
        env.update(CHEAP_HASHING)
        env.update(
            NO_PROXY="127.0.0.1,localhost",
            FLOWDECK_DATABASE_URL=PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.database,
            FLOWDECK_BROKER_URL=REDIS_URL,
            FLOWDECK_REDIS_URL=REDIS_URL,
            FLOWDECK_REDIS_PREFIX=self.prefix,
            FLOWDECK_DATA_DIR=str(self.tmp / "data"),
            # Every process of the cluster runs on this machine, in the same data directory.
            FLOWDECK_STORAGE_SHARED="true",
            FLOWDECK_SUPERUSER="admin",
            FLOWDECK_SUPERUSER_PASSWORD=PASSWORD,
            FLOWDECK_SECRET_KEY="cluster-secret-key-long-enough-for-hs256",
            FLOWDECK_LOG_LEVEL="info",
        )
        env.update(self.settings)
        return env

    def _spawn(self, name: str, *args: str) -> None:
        log = (self.tmp / f"{name}.log").open("ab")
        self.procs[name] = subprocess.Popen(
            [*COMMAND, *args], env=self.env(), stdout=log, stderr=subprocess.STDOUT
        )

    def start_api(self, name: str, *extra: str) -> str:
        port = self.ports.setdefault(name, free_port())
        self._spawn(name, "serve", "--port", str(port), *extra)
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                    return url
            self._check_alive(name)
            time.sleep(0.1)
        raise RuntimeError(f"{name} did not start: {self.log(name)}")

    def start_worker(self, name: str, concurrency: int = 32, *extra: str) -> None:
        """Start a worker and return once it consumes from the broker."""
        self._spawn(name, "worker", "--name", name, "--concurrency", str(concurrency), *extra)
        deadline = time.monotonic() + 30
        while f"{name}@" not in self.log(name) or " ready." not in self.log(name):
            self._check_alive(name)
            if time.monotonic() > deadline:
                raise RuntimeError(f"{name} did not start: {self.log(name)}")
            time.sleep(0.05)

    def _check_alive(self, name: str) -> None:
        if self.procs[name].poll() is not None:
            raise RuntimeError(f"{name} exited: {self.log(name)}")

    def log(self, name: str) -> str:
        return (self.tmp / f"{name}.log").read_text(errors="replace")[-4000:]

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        proc = self.procs[name]
        proc.send_signal(sig)
        proc.wait(timeout=60)

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def __enter__(self) -> Cluster:
        _pg(f'CREATE DATABASE "{self.database}"')
        return self

    def __exit__(self, *exc: object) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        _pg(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')
        _drop_redis_keys(self.prefix)


@contextlib.contextmanager
def client(url: str) -> Iterator[httpx.Client]:
    """A superuser client of one API process."""
    with httpx.Client(base_url=url, timeout=30) as http:
        resp = http.post("/api/v1/login", data={"username": "admin", "password": PASSWORD})
        resp.raise_for_status()
        http.headers["Authorization"] = f"Bearer {resp.json()['access_token']}"
        yield http


def wait_state(
    http: httpx.Client, run_id: str, states: set[str], timeout: float = 30
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        run: dict[str, Any] = http.get(f"/api/v1/runs/{run_id}").json()
        if run["state"] in states or time.monotonic() > deadline:
            return run
        time.sleep(0.02)
