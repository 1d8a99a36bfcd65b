"""Browser tests of the console: a real `flowdeck serve`, Debian's Chromium driven by Playwright.

One server (SQLite in a temp dir) and one browser per module; each test gets a fresh
browser context (so a fresh sessionStorage) that fails the test on any console error.
Screenshots of each page land in the pytest temp dir, `<basetemp>/console-artifacts/`
(CI keeps them as the run's artifacts).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from bench._server import PASSWORD, Server, flowdeck_server
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, sync_playwright
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from tests.conftest import CHEAP_HASH_SETTINGS
from tests.unit.engine.components._support import serve

CHROMIUM = "/usr/bin/chromium"
TOKEN_GAP = 0.08  # seconds between streamed words: slow enough to watch them arrive


class LastWord:
    """Holds the model's last word back while a test looks at a partial answer: on a loaded
    machine the whole answer could otherwise arrive before the page is read."""

    def __init__(self) -> None:
        self.holding = threading.Event()
        self.released = threading.Event()

    @contextmanager
    def held(self) -> Iterator[threading.Event]:
        """Hold it for the block; setting the event lets it go (leaving the block does too)."""
        self.released.clear()
        self.holding.set()
        try:
            yield self.released
        finally:
            self.holding.clear()
            self.released.set()

    async def wait(self) -> None:
        if self.holding.is_set():
            await asyncio.to_thread(self.released.wait, 30)


LAST_WORD = LastWord()
# Set on a test whose call failed, for fixtures that add what the servers logged.
FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call" and report.failed:
        item.stash[FAILED] = True
    return report


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    # The playground's model server is on 127.0.0.1: private networks are allowed here.
    with flowdeck_server(allow_private_networks="true", **CHEAP_HASH_SETTINGS) as srv:
        yield srv


@dataclass
class Api:
    """The test's own API client (bearer token), to arrange flows and runs."""

    client: httpx.Client

    def flow(self, name: str, data: dict[str, Any]) -> str:
        resp = self.client.post("/api/v1/flows/", json={"name": name, "data": data})
        assert resp.status_code == 201, resp.text
        flow_id: str = resp.json()["id"]
        return flow_id

    def background_run(self, flow_id: str, text: str = "hi") -> str:
        """A run started by webhook (202 at once): the console did not start it."""
        resp = self.client.post(f"/api/v1/webhook/{flow_id}", json={"input_value": text})
        assert resp.status_code == 202, resp.text
        run_id: str = resp.json()["run_id"]
        return run_id

    def run(self, run_id: str) -> dict[str, Any]:
        resp = self.client.get(f"/api/v1/runs/{run_id}")
        assert resp.status_code == 200, resp.text
        record: dict[str, Any] = resp.json()
        return record


@contextmanager
def api_of(url: str) -> Iterator[Api]:
    """The superuser's API client of the server at `url`."""
    with httpx.Client(base_url=url, timeout=30, trust_env=False) as client:
        resp = client.post("/api/v1/login", data={"username": "admin", "password": PASSWORD})
        client.headers["authorization"] = f"Bearer {resp.raise_for_status().json()['access_token']}"
        client.cookies.clear()
        yield Api(client)


@pytest.fixture(scope="module")
def api(server: Server) -> Iterator[Api]:
    with api_of(server.url) as client:
        yield client


async def _completions(request: Request) -> Response:
    """An OpenAI-style chat endpoint that streams its echo word by word, TOKEN_GAP apart."""
    body = await request.json()
    words = ("Echo: " + body["messages"][-1]["content"]).split(" ")

    async def chunks() -> AsyncIterator[bytes]:
        for i, word in enumerate(words):
            delta = {"content": word if i == 0 else " " + word}
            doc = {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta}]}
            yield b"data: " + orjson.dumps(doc) + b"\n\n"
            await asyncio.sleep(TOKEN_GAP)
            if i == len(words) - 2:
                await LAST_WORD.wait()
        yield b"data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


@pytest.fixture(scope="module")
def model_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/v1/chat/completions", _completions, methods=["POST"])])
    with serve(app) as url:
        yield f"{url}/v1"


# Per module, not per session: Playwright's sync API keeps an event loop running in this
# thread while it is started, and the async tests of later modules need the thread free.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)")
    with sync_playwright() as pw:
        yield pw


@pytest.fixture(scope="module")
def browser(playwright: Playwright) -> Iterator[Browser]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    yield browser
    browser.close()


@dataclass
class Console:
    """A page of the console plus what its browser console said."""

    page: Page
    url: str
    artifacts: Path
    errors: list[str] = field(default_factory=list)
    shots: list[Path] = field(default_factory=list)

    def shot(self, name: str, full_page: bool = True) -> None:
        path = self.artifacts / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page, timeout=30_000)
        self.shots.append(path)

    def sign_in(self) -> None:
        self.page.goto(self.url + "/")
        self.page.get_by_label("Username").fill("admin")
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Sign in").click()
        self.page.get_by_role("heading", name="Flows").wait_for()

    def open(self, fragment: str) -> Page:
        """Open a console page by its fragment (`/#/runs`), already signed in: the token is
        put where the sign-in form puts it (test_sign_in_and_out covers the form itself)."""
        resp = httpx.post(
            self.url + "/api/v1/login",
            data={"username": "admin", "password": PASSWORD},
            trust_env=False,
        )
        token = resp.raise_for_status().json()["access_token"]
        self.page.context.add_init_script(f"sessionStorage.setItem('flowdeck.token', {token!r})")
        self.page.goto(self.url + fragment)
        return self.page


@pytest.fixture(scope="module")
def artifacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.getbasetemp() / "console-artifacts"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture
def console(browser: Browser, server: Server, artifacts: Path) -> Iterator[Console]:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(30_000)  # a loaded CI machine runs three test processes
    page = context.new_page()
    view = Console(page, server.url, artifacts)

    def on_console(msg: ConsoleMessage) -> None:
        if msg.type == "error":
            view.errors.append(msg.text)

    page.on("console", on_console)
    page.on("pageerror", lambda exc: view.errors.append(f"page error: {exc}"))
    yield view
    context.close()
    assert view.errors == [], f"the browser console showed errors: {view.errors}"
