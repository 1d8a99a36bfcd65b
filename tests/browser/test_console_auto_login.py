"""The console under FLOWDECK_AUTO_LOGIN: straight in, and back in after signing out."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from bench._server import Server, flowdeck_server

from tests.browser.conftest import Console
from tests.conftest import CHEAP_HASH_SETTINGS


@pytest.fixture(scope="module")
def server() -> Iterator[Server]:
    with flowdeck_server(auto_login="true", **CHEAP_HASH_SETTINGS) as srv:
        yield srv


def test_auto_login_goes_straight_in(console: Console) -> None:
    page = console.page
    page.goto(console.url + "/")
    page.get_by_role("heading", name="Flows").wait_for()
    assert page.locator("#whoami").inner_text() == "admin"
    assert page.evaluate("sessionStorage.getItem('flowdeck.token')")
    page.get_by_role("button", name="Sign out").click()
    # Signed out stays signed out (no silent re-entry) until asked.
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    page.reload()
    page.get_by_role("heading", name="Sign in to flowdeck").wait_for()
    console.shot("sign-in-auto-login")
    page.get_by_role("button", name="Continue without a password").click()
    page.get_by_role("heading", name="Flows").wait_for()
