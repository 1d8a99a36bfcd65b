"""The embedded server (SQLite) killed with SIGKILL under load: no accepted run goes missing.

Every run the API answered for (a 200 with its job id) is stored before the answer, so after
a restart each is found again: queued ones run, and ones the kill caught running are failed
(`FLOWDECK_ON_RESTART=fail`, the default) or run again (`retry`).
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

from tests.conftest import CHEAP_HASHING
from tests.e2e.cli_support import COMMAND
from tests.e2e.cluster import free_port
from tests.e2e.test_distributed import delay_graph, make_flow

pytestmark = pytest.mark.timeout(90)

RUNS = 150
TERMINAL = {"completed", "failed", "cancelled"}
PASSWORD = "restart-password"
STOPPED = "the server stopped while this run was in progress"


@dataclass
class EmbeddedServer:
    """`flowdeck serve` on a SQLite file, restartable on the same port and data directory."""

    data: Path
    settings: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
        env.update(CHEAP_HASHING)
        env.update(
            {
                "NO_PROXY": "127.0.0.1,localhost",
                "FLOWDECK_DATA_DIR": str(self.data),
                "FLOWDECK_SUPERUSER": "admin",
                "FLOWDECK_SUPERUSER_PASSWORD": PASSWORD,
                "FLOWDECK_SECRET_KEY": "restart-secret-key-long-enough-for-hs256",
                **self.settings,
            }
        )
        log = (self.data.parent / "server.log").open("ab")
        self.proc = subprocess.Popen(
            [*COMMAND, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/health", timeout=1).status_code == 200:
                    return
            assert self.proc.poll() is None, self.log()
            time.sleep(0.05)
        raise RuntimeError(f"the server did not start: {self.log()}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)  # no shutdown hook runs, no write is flushed
        self.proc.wait(timeout=30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()

    def log(self) -> str:
        return (self.data.parent / "server.log").read_text(errors="replace")[-4000:]

    def token(self) -> str:
        resp = httpx.post(
            f"{self.url}/api/v1/login", data={"username": "admin", "password": PASSWORD}
        )
        resp.raise_for_status()
        return str(resp.json()["access_token"])


def _submit_all(server: EmbeddedServer, flow_id: str, token: str, accepted: list[str]) -> None:
    """Submit RUNS runs from 8 threads, keeping the id of each one the server answered for.

    A submission that meets the dead server (refused, reset) was never accepted; it is
    tried again until it is, so the runs span the kill and the restart.
    """
    headers = {"Authorization": f"Bearer {token}"}

    def one(i: int) -> None:
        with httpx.Client(base_url=server.url, headers=headers, timeout=30) as http:
            while True:
                try:
                    resp = http.post(
                        f"/api/v1/build/{flow_id}/flow", json={"inputs": {"input_value": f"r{i}"}}
                    )
                except httpx.TransportError:
                    time.sleep(0.05)
                    continue
                assert resp.status_code == 200, resp.text
                accepted.append(str(resp.json()["job_id"]))
                return

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(one, range(RUNS)))


def _stored(db: Path) -> dict[str, tuple[str, int, str | None]]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT id, state, attempts, error FROM runs").fetchall()
    return {run_id: (state, attempts, error) for run_id, state, attempts, error in rows}


def _messages(db: Path) -> Counter[str]:
    with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True)) as conn:
        rows = conn.execute("SELECT run_id, count(*) FROM messages GROUP BY run_id").fetchall()
    return Counter(dict(rows))


@pytest.mark.parametrize("policy", ["fail", "retry"])
def test_kill_9_the_embedded_server_with_150_runs_in_flight(tmp_path: Path, policy: str) -> None:
    server = EmbeddedServer(
        tmp_path / "data",
        {"FLOWDECK_ON_RESTART": policy, "FLOWDECK_MAX_CONCURRENT_RUNS": "32"},
    )
    db = tmp_path / "data" / "flowdeck.db"
    server.start()
    try:
        token = server.token()
        with httpx.Client(
            base_url=server.url, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            flow_id = make_flow(http, "restart", delay_graph(1.0))
        accepted: list[str] = []
        feeder = threading.Thread(target=_submit_all, args=(server, flow_id, token, accepted))
        feeder.start()
        # Killed once a third of the runs are in and the store shows one running: a loaded
        # machine may wake this thread late, after every run taken so far has ended.
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            len(accepted) < RUNS // 3 or "running" not in {s for s, _, _ in _stored(db).values()}
        ):
            time.sleep(0.01)
        server.kill()
        at_kill = _stored(db)
        server.start()  # the same data directory: recovery runs before the first request
        feeder.join(timeout=60)
        assert not feeder.is_alive()

        deadline = time.monotonic() + 40
        stored = _stored(db)
        while time.monotonic() < deadline and not all(
            stored.get(run_id, ("",))[0] in TERMINAL for run_id in accepted
        ):
            time.sleep(0.2)
            stored = _stored(db)
    finally:
        server.stop()

    assert len(accepted) == len(set(accepted)) == RUNS
    missing = [run_id for run_id in accepted if run_id not in stored]
    assert missing == []
    states = Counter(stored[run_id][0] for run_id in accepted)
    assert set(states) <= TERMINAL, states
    # The kill caught runs in flight: stored as running by the process that died.
    interrupted = {r for r in accepted if r in at_kill and at_kill[r][0] == "running"}
    assert interrupted, Counter(at_kill.get(r, ("absent",))[0] for r in accepted)
    # ... and the submissions went on across the restart.
    assert any(run_id not in at_kill for run_id in accepted)
    if policy == "fail":
        assert {stored[r][0] for r in interrupted} == {"failed"}
        assert {stored[r][2] for r in interrupted} == {STOPPED}
        assert states == {"failed": len(interrupted), "completed": RUNS - len(interrupted)}
    else:
        assert states == {"completed": RUNS}, states
        assert {stored[r][1] for r in interrupted} == {2}  # run again, once
    # A run interrupted mid-flight stored none of its records: one set per completed run.
    messages = _messages(db)
    completed = [r for r in accepted if stored[r][0] == "completed"]
    assert {messages[r] for r in completed} == {messages[completed[0]]}
    assert messages[completed[0]] >= 1
