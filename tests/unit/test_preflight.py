"""What `flowdeck serve` prints first: addresses without credentials."""

from __future__ import annotations

from pathlib import Path

from flowdeck.commands.preflight import banner, shown_url, shown_url_plain
from flowdeck.settings import Settings


def test_database_urls_are_shown_without_credentials() -> None:
    shown = shown_url("postgresql+asyncpg://flow:hunter2@db.example:6543/flows")
    assert shown == "postgresql://db.example:6543/flows"
    assert shown_url("sqlite+aiosqlite:////var/lib/flowdeck/flowdeck.db") == (
        "sqlite:////var/lib/flowdeck/flowdeck.db"
    )
    assert shown_url_plain("amqp://guest:hunter2@mq:5672//") == "amqp://mq:5672//"


def test_the_banner_names_the_listener_docs_and_database(tmp_path: Path) -> None:
    settings = Settings(
        host="0.0.0.0",
        port=8123,
        data_dir=tmp_path,
        database_url="postgresql://flow:hunter2@db.example/flows",
    )
    text = banner(settings)
    lines = text.splitlines()
    assert lines[0].endswith("listening on 0.0.0.0:8123")
    assert "http://127.0.0.1:8123/docs" in text
    assert "http://127.0.0.1:8123/redoc" in text
    assert "database: postgresql://db.example/flows" in text
    assert "hunter2" not in text
    assert "flow@" not in text
