"""The first minutes of a new server: what it prints, the generated password, bad settings."""

from __future__ import annotations

import stat
from pathlib import Path

import httpx
import pytest

from tests.e2e.cli_support import assert_clean_failure, flowdeck
from tests.e2e.test_restart_recovery import EmbeddedServer

pytestmark = pytest.mark.timeout(90)


def _login(server: EmbeddedServer, password: str) -> int:
    resp = httpx.post(
        f"{server.url}/api/v1/login", data={"username": "admin", "password": password}
    )
    return resp.status_code


def test_a_new_server_generates_prints_and_keeps_the_password(tmp_path: Path) -> None:
    server = EmbeddedServer(tmp_path / "data", {"FLOWDECK_SUPERUSER_PASSWORD": ""})
    server.start()
    try:
        first = server.log()
        kept = tmp_path / "data" / "superuser_password"
        password = kept.read_text().strip()
        assert len(password) >= 20
        assert stat.S_IMODE(kept.stat().st_mode) == 0o600
        assert first.count(password) == 2  # the password, then the sign-in command
        assert f"curl -X POST {server.url}/api/v1/login -d username=admin" in first
        # The first lines: where it listens, the docs, the database.
        head = first.splitlines()[:4]
        assert head[0].endswith(f"listening on 127.0.0.1:{server.port}")
        assert f"API docs: {server.url}/docs" in head[2]
        assert head[3] == f"  database: sqlite:///{tmp_path / 'data' / 'flowdeck.db'}"
        assert _login(server, password) == 200
        assert _login(server, "not-the-password") == 401
    finally:
        server.stop()
    server.start()
    try:
        again = server.log()[len(first) :]
        assert "listening on" in again
        assert password not in again
        assert _login(server, password) == 200
    finally:
        server.stop()


@pytest.mark.parametrize(
    ("settings", "needles"),
    [
        (
            {"FLOWDECK_DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:5432/no_such_db"},
            ["FLOWDECK_DATABASE_URL", "'no_such_db' does not exist on 127.0.0.1:5432"],
        ),
        (
            {"FLOWDECK_DATABASE_URL": "postgresql://postgres:hunter2@127.0.0.1:1/test"},
            ["FLOWDECK_DATABASE_URL", "cannot reach PostgreSQL at 127.0.0.1:1"],
        ),
        (
            {
                "FLOWDECK_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
                "FLOWDECK_REDIS_URL": "redis://:hunter2@127.0.0.1:1/0",
            },
            ["FLOWDECK_REDIS_URL", "cannot reach Redis at 127.0.0.1:1"],
        ),
        (
            {
                "FLOWDECK_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
                "FLOWDECK_REDIS_URL": "redis://127.0.0.1:6379/0",
                "FLOWDECK_BROKER_URL": "amqp://guest:hunter2@127.0.0.1:1//",
                "FLOWDECK_STORAGE_SHARED": "true",
            },
            ["FLOWDECK_BROKER_URL", "cannot reach the broker at 127.0.0.1:1"],
        ),
    ],
)
def test_an_unreachable_dependency_is_one_line(
    tmp_path: Path, settings: dict[str, str], needles: list[str]
) -> None:
    proc = flowdeck("serve", "--port", "1", env={"FLOWDECK_DATA_DIR": str(tmp_path), **settings})
    assert_clean_failure(proc, *needles)
    assert proc.returncode == 1
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "hunter2" not in proc.stderr
    assert proc.stdout == ""
