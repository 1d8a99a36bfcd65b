"""The data directory, the SQLite database and the generated key are private to the server."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import httpx

from flowdeck.api.app import create_app
from flowdeck.datadir import private_sqlite, sqlite_path
from flowdeck.settings import Settings


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


async def test_a_new_install_is_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, superuser_password="pw-123456")
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            assert (await client.get("/health")).status_code == 200
        db_file = data / "flowdeck.db"
        assert mode(data) == 0o700
        assert mode(db_file) == 0o600
        assert mode(data / "secret_key") == 0o600
        for companion in (data / "flowdeck.db-wal", data / "flowdeck.db-shm"):
            if companion.exists():  # SQLite gives them the database's permissions
                assert mode(companion) == 0o600


async def test_an_existing_install_is_tightened(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "secret_key").write_text("k" * 64)
    (data / "secret_key").chmod(0o644)
    app = create_app(Settings(data_dir=data))
    async with app.router.lifespan_context(app):
        pass
    assert mode(data) == 0o700
    assert mode(data / "secret_key") == 0o600
    assert mode(data / "flowdeck.db") == 0o600


def test_a_sqlite_file_elsewhere_is_private_and_memory_is_left_alone(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'other' / 'x.db'}"
    private_sqlite(url)
    assert mode(tmp_path / "other" / "x.db") == 0o600
    assert mode(tmp_path / "other") == 0o700
    assert sqlite_path("sqlite+aiosqlite:///:memory:") is None
    assert sqlite_path("postgresql+asyncpg://u@h/db") is None
