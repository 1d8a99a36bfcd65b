"""The console in a real browser: sign in, flows, graph, playground, live runs, controls, keys."""

from __future__ import annotations

from bench._server import Server
from tests.browser.conftest import Api, Console


def test_sign_in_and_out(console: Console) -> None:
    page = console.page
    page.goto(console.url + "/")
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    console.shot("sign-in")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill("wrong-password")
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("alert").filter(has_text="incorrect username or password").wait_for()
    console.errors.clear()  # the 401 above is logged by the browser as a failed resource
    console.sign_in()
    assert page.locator("#whoami").inner_text() == "admin"
    # The token is kept in sessionStorage; the console never relies on cookies.
    assert page.evaluate("sessionStorage.getItem('flowdeck.token')")
    assert page.context.cookies() == []
    console.shot("flows-empty")
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    assert page.evaluate("sessionStorage.getItem('flowdeck.token')") is None


def test_docs_are_served_offline(console: Console, server: Server) -> None:
    page = console.page
    foreign: list[str] = []
    page.on(
        "request",
        lambda r: None if r.url.startswith((server.url, "blob:", "data:")) else foreign.append(r.url),
    )
    page.goto(server.url + "/docs")
    page.locator(".swagger-ui .info .title").filter(has_text="flowdeck").wait_for()
    console.shot("docs", full_page=False)
    page.goto(server.url + "/redoc")
    page.locator("h1").filter(has_text="flowdeck").first.wait_for()
    console.shot("redoc", full_page=False)
    assert foreign == []
