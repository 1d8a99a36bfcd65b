"""The clients people install, run unchanged against a real `flowdeck serve` on 127.0.0.1.

One server per database for the whole package (SQLite, then PostgreSQL): each test makes
the flows it needs, so tests share the server but not their rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from bench._server import PASSWORD, Server, flowdeck_server

from tests.conftest import CHEAP_HASH_SETTINGS, _pg_database

# ChatInput -> Prompt ("Hello {name}!") -> ChatOutput: a tweak of `greet` shows in the reply.
GREETING: dict[str, Any] = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "greet", "type": "Prompt", "params": {"template": "Hello {name}!"}},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "greet.name"},
        {"from": "greet.prompt", "to": "out.input_value"},
    ],
}
# ChatInput -> ParseJSON -> ChatOutput: text that is not JSON makes the run fail.
FAILING: dict[str, Any] = {
    "nodes": [
        {"id": "in", "type": "ChatInput"},
        {"id": "boom", "type": "ParseJSON"},
        {"id": "out", "type": "ChatOutput"},
    ],
    "edges": [
        {"from": "in.message", "to": "boom.input_value"},
        {"from": "boom.data", "to": "out.input_value"},
    ],
}


@dataclass
class Deck:
    """The running server, a signed-in administrator and one of their API keys."""

    server: Server
    token: str
    api_key: str

    @property
    def url(self) -> str:
        return self.server.url

    def http(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url,
            headers={"authorization": f"Bearer {self.token}"},
            timeout=30,
            trust_env=False,
        )

    def add_flow(self, data: dict[str, Any], **fields: Any) -> dict[str, Any]:
        name = fields.pop("name", f"flow-{uuid.uuid4().hex[:8]}")
        with self.http() as client:
            resp = client.post("/api/v1/flows/", json={"name": name, "data": data, **fields})
        assert resp.status_code == 201, resp.text
        flow: dict[str, Any] = resp.json()
        return flow


@pytest.fixture(
    scope="package", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def deck(request: pytest.FixtureRequest) -> Iterator[Deck]:
    databases = iter([None]) if request.param == "sqlite" else _pg_database()
    database_url = next(databases)
    # The model servers of the tests listen on 127.0.0.1, which the default policy refuses.
    settings = {"allow_private_networks": "true", **CHEAP_HASH_SETTINGS}
    if database_url:
        settings["database_url"] = database_url
    try:
        with flowdeck_server(**settings) as server:
            with httpx.Client(base_url=server.url, timeout=30, trust_env=False) as client:
                login = client.post(
                    "/api/v1/login", data={"username": "admin", "password": PASSWORD}
                )
                assert login.status_code == 200, login.text
                token = login.json()["access_token"]
                key = client.post(
                    "/api/v1/api_key/",
                    json={"name": "clients"},
                    headers={"authorization": f"Bearer {token}"},
                )
                assert key.status_code == 200, key.text
            yield Deck(server, token, key.json()["api_key"])
    finally:
        for _ in databases:  # drops the PostgreSQL database
            pass
