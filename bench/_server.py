"""Shared by the server benchmarks: a real `flowdeck serve` process, and a bare reference.

Every server here is a subprocess bound to 127.0.0.1 on a free port, with a fresh data
directory (SQLite), stopped at the end of its `with` block. The flowdeck server is started
exactly as a user does (`flowdeck serve`); the reference is the same uvicorn, same options
(one worker, default loop and HTTP parser, no access log), serving a bare FastAPI app
from the benchmark file itself.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "bench-password-1"
READY_TIMEOUT = 60.0
LOG_TAIL_LINES = 30
# Below the server's 30 s database timeouts: a stuck server fails the bench, not hangs it.
REQUEST_TIMEOUT = 20.0
MB = 1024 * 1024

# A two-node flow in the native layout: what each run executes unless a bench says otherwise.
ECHO: dict[str, Any] = {
    "nodes": [{"id": "in", "type": "ChatInput"}, {"id": "out", "type": "ChatOutput"}],
    "edges": [{"from": "in.message", "to": "out.input_value"}],
}


def delay_flow(seconds: float) -> dict[str, Any]:
    """ChatInput -> Delay(seconds) -> ChatOutput: a run that waits, as on I/O."""
    return {
        "nodes": [
            {"id": "in", "type": "ChatInput"},
            {"id": "wait", "type": "Delay", "params": {"seconds": seconds}},
            {"id": "out", "type": "ChatOutput"},
        ],
        "edges": [
            {"from": "in.message", "to": "wait.input_value"},
            {"from": "wait.message", "to": "out.input_value"},
        ],
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def base_env(**extra: str) -> dict[str, str]:
    """This environment without any FLOWDECK_* (the server rejects unknown ones)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("FLOWDECK_")}
    env.update(NO_PROXY="127.0.0.1,localhost", no_proxy="127.0.0.1,localhost")
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env.update(extra)
    return env


def flowdeck_command() -> list[str]:
    script = Path(sys.executable).with_name("flowdeck")
    return [str(script)] if script.exists() else [sys.executable, "-m", "flowdeck"]


def rss_of(pid: int) -> int:
    """Resident memory of a process, in bytes (Linux /proc)."""
    with open(f"/proc/{pid}/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used: unlike wall time, the machine's other
    load barely changes it, so it is the steadier figure on a busy machine."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Server:
    """A server subprocess: its URL, pid, and how long it took to answer /health."""

    def __init__(self, proc: subprocess.Popen[bytes], url: str, started: float) -> None:
        self.proc = proc
        self.url = url
        self.started = started
        self.ready_after = 0.0
        self.data_dir: Path | None = None

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss(self) -> int:
        return rss_of(self.proc.pid)

    def cpu(self) -> float:
        return cpu_seconds(self.proc.pid)

    def wait_ready(self, path: str = "/health") -> float:
        """Poll `path` every 2 ms until it answers 200; seconds since the process started."""
        deadline = self.started + READY_TIMEOUT
        with httpx.Client(base_url=self.url, timeout=1.0, trust_env=False) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"server exited with code {self.proc.returncode}")
                try:
                    if client.get(path).status_code == 200:
                        self.ready_after = time.perf_counter() - self.started
                        return self.ready_after
                except httpx.TransportError:
                    pass
                time.sleep(0.002)
        raise RuntimeError(f"server at {self.url} not ready after {READY_TIMEOUT:g} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


@contextmanager
def _running(cmd: list[str], env: dict[str, str], cwd: Path, port: int) -> Iterator[Server]:
    """The server's output goes to a log file, shown (its end) only when something failed."""
    log_path = cwd / "server.log"
    with open(log_path, "wb") as log:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    server = Server(proc, f"http://127.0.0.1:{port}", started)
    try:
        server.wait_ready()
        yield server
    except BaseException:
        server.stop()
        tail = log_path.read_text(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        if tail:
            print(f"--- last lines of the server's log ({' '.join(cmd[-6:])}):", file=sys.stderr)
            print("\n".join(tail), file=sys.stderr)
        raise
    finally:
        server.stop()


@contextmanager
def flowdeck_server(**settings: str) -> Iterator[Server]:
    """`flowdeck serve` on a fresh data dir; `settings` are extra FLOWDECK_* values."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-") as tmp:
        data = Path(tmp)
        env = base_env(
            FLOWDECK_DATA_DIR=str(data / "data"),
            FLOWDECK_SUPERUSER="admin",
            FLOWDECK_SUPERUSER_PASSWORD=PASSWORD,
            FLOWDECK_LOG_LEVEL="warning",
            **{f"FLOWDECK_{k.upper()}": v for k, v in settings.items()},
        )
        # cwd is the temp dir, so no `.env` file of the checkout is read.
        cmd = [*flowdeck_command(), "serve", "--port", str(port)]
        with _running(cmd, env, data, port) as server:
            server.data_dir = data / "data"
            yield server


@contextmanager
def reference_server(factory: str, **env: str) -> Iterator[Server]:
    """uvicorn serving `module:factory` with the options `flowdeck serve` uses."""
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-ref-") as tmp:
        cmd = [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            factory,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            "1",
            "--log-level",
            "warning",
            "--no-access-log",
        ]
        with _running(cmd, base_env(**env), Path(tmp), port) as server:
            yield server


def setup_flow(
    server: Server, data: dict[str, Any] | None = None, name: str = "echo"
) -> tuple[str, str]:
    """Log in as the superuser and create a flow: (bearer access token, flow id).

    A bearer token, not an API key: with an API key, a run on SQLite waits 30 s for the
    database lock that the key's usage update holds, then fails (see the bench report).
    """
    with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
        resp = client.post(
            "/api/v1/login", data={"username": "admin", "password": PASSWORD}
        ).raise_for_status()
        token: str = resp.json()["access_token"]
        client.headers["authorization"] = f"Bearer {token}"
        flow = client.post("/api/v1/flows/", json={"name": name, "data": data or ECHO})
        if flow.status_code != 201:
            raise RuntimeError(f"creating the flow failed: {flow.status_code} {flow.text}")
        flow_id: str = flow.json()["id"]
    return token, flow_id


@dataclass(frozen=True, slots=True)
class Answer:
    """What a load client keeps of a response."""

    status_code: int
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode(errors="replace")

    def json(self) -> Any:
        return orjson.loads(self.content)

    def raise_for_status(self) -> Answer:
        if self.status_code >= 400:
            raise RuntimeError(f"request failed: {self.status_code} {self.text[:300]}")
        return self


class LoadClient:
    """The load generator's keep-alive HTTP client (aiohttp).

    The load generator shares the machine's cores with the servers it measures, so its own
    cost per request must be small beside theirs: httpx spends about 1.7 ms of CPU per
    request on the 2-core development machine, aiohttp about 0.17 ms. Streams still use httpx.
    """

    def __init__(self, url: str, token: str | None = None, connections: int = 100) -> None:
        import aiohttp

        headers = {"authorization": f"Bearer {token}"} if token else {}
        self._session = aiohttp.ClientSession(
            url,
            headers=headers,
            connector=aiohttp.TCPConnector(limit=connections),
            timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            trust_env=False,
        )

    async def post(self, path: str, json: Any = None) -> Answer:
        async with self._session.post(path, data=orjson.dumps(json), headers=_JSON) as resp:
            return Answer(resp.status, await resp.read())

    async def get(self, path: str) -> Answer:
        async with self._session.get(path) as resp:
            return Answer(resp.status, await resp.read())

    async def delete(self, path: str) -> Answer:
        async with self._session.delete(path) as resp:
            return Answer(resp.status, await resp.read())

    async def upload(self, path: str, name: str, content: bytes) -> Answer:
        """A multipart/form-data POST of one file (field `file`), as a browser sends it."""
        import aiohttp

        form = aiohttp.FormData()
        form.add_field("file", content, filename=name)
        async with self._session.post(path, data=form) as resp:
            return Answer(resp.status, await resp.read())

    async def aclose(self) -> None:
        await self._session.close()

    async def __aenter__(self) -> LoadClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


_JSON = {"content-type": "application/json"}


def load_client(url: str, token: str | None = None, connections: int = 100) -> LoadClient:
    """A keep-alive client for request rates and latencies (see LoadClient)."""
    return LoadClient(url, token, connections)


def client(url: str, token: str | None = None, connections: int = 100) -> httpx.AsyncClient:
    """A keep-alive client to one of our servers (no proxy, no HTTP/2)."""
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return httpx.AsyncClient(
        base_url=url,
        headers=headers,
        timeout=REQUEST_TIMEOUT,
        trust_env=False,
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def sequential_latencies(call: Callable[[], Awaitable[Any]], count: int) -> list[float]:
    """One request at a time; seconds for each (all must succeed)."""
    times = []
    for _ in range(count):
        start = time.perf_counter()
        resp = await call()
        times.append(time.perf_counter() - start)
        if resp.status_code >= 400:
            raise RuntimeError(f"request failed: {resp.status_code} {resp.text[:300]}")
    return times


async def throughput(call: Callable[[], Awaitable[Any]], clients: int, total: int) -> float:
    """Requests per second with `clients` concurrent callers sharing `total` requests."""
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            resp = await call()
            if resp.status_code >= 400:
                raise RuntimeError(f"request failed: {resp.status_code} {resp.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return total / (time.perf_counter() - start)


def pct(samples: list[float], q: float) -> float:
    """The q-quantile (0..1) of samples."""
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def median(samples: Sequence[float]) -> float:
    return statistics.median(samples)


def run_loop(coro: Awaitable[Any]) -> Any:
    """Run with uvloop when installed (as the servers do), so the client costs less CPU."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)  # type: ignore[arg-type]
    return uvloop.run(coro)  # type: ignore[arg-type]
