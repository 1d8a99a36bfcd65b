"""Before `flowdeck serve` starts: reach what the settings name, then say where things are.

A server that cannot reach its database, Redis or broker would fail inside its start-up with
a traceback; checked here, each problem is one line naming the setting and the address.
"""

from __future__ import annotations

import asyncio
import socket
from urllib.parse import urlsplit

from sqlalchemy.engine import URL, make_url

from flowdeck.settings import Settings

TIMEOUT = 5.0


class PreflightError(Exception):
    """A dependency the settings name is missing or unreachable."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def shown_url(url: str) -> str:
    """A database URL without its credentials (and without the driver name)."""
    parsed = make_url(url)
    bare = URL.create(
        parsed.get_backend_name(),
        host=parsed.host,
        port=parsed.port,
        database=parsed.database,
        query=parsed.query,
    )
    return bare.render_as_string()


def _address(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "localhost", parts.port or default_port


async def _postgres(settings: Settings) -> None:
    import asyncpg

    url = make_url(settings.db_url)
    where = f"{url.host or 'localhost'}:{url.port or 5432}"
    try:
        conn = await asyncpg.connect(
            host=url.host,
            port=url.port,
            user=url.username,
            password=url.password,
            database=url.database,
            timeout=TIMEOUT,
        )
    except asyncpg.InvalidCatalogNameError:
        raise PreflightError(
            f"FLOWDECK_DATABASE_URL: database {url.database!r} does not exist on {where}"
        ) from None
    except asyncpg.InvalidAuthorizationSpecificationError as exc:
        raise PreflightError(f"FLOWDECK_DATABASE_URL: {where} refused the login: {exc}") from None
    except asyncpg.PostgresError as exc:
        raise PreflightError(f"FLOWDECK_DATABASE_URL: PostgreSQL at {where}: {exc}") from None
    except (OSError, TimeoutError) as exc:
        raise PreflightError(
            f"FLOWDECK_DATABASE_URL: cannot reach PostgreSQL at {where} ({_reason(exc)})"
        ) from None
    await conn.close()


async def _redis(settings: Settings) -> None:
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    host, port = _address(settings.redis_url, 6379)
    client = Redis.from_url(
        settings.redis_url, socket_connect_timeout=TIMEOUT, socket_timeout=TIMEOUT
    )
    try:
        await client.ping()
    except (RedisError, OSError) as exc:
        raise PreflightError(
            f"FLOWDECK_REDIS_URL: cannot reach Redis at {host}:{port} ({_reason(exc)})"
        ) from None
    finally:
        await client.aclose()


def _broker(settings: Settings) -> None:
    scheme = urlsplit(settings.broker_url).scheme
    port = {"amqp": 5672, "pyamqp": 5672, "amqps": 5671, "redis": 6379, "rediss": 6380}
    host, number = _address(settings.broker_url, port.get(scheme, 5672))
    try:
        socket.create_connection((host, number), timeout=TIMEOUT).close()
    except OSError as exc:
        raise PreflightError(
            f"FLOWDECK_BROKER_URL: cannot reach the broker at {host}:{number} ({_reason(exc)})"
        ) from None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer in {TIMEOUT:g} s"
    text = getattr(exc, "strerror", None) or str(exc)
    return text or type(exc).__name__


def preflight(settings: Settings) -> None:
    """Raise PreflightError for the first dependency that is missing or unreachable."""
    if not settings.is_sqlite:  # a SQLite file is created when missing
        asyncio.run(_postgres(settings))
    if settings.redis_url:
        asyncio.run(_redis(settings))
    if settings.broker_url:
        _broker(settings)


def banner(settings: Settings) -> str:
    """The server's first lines: where it listens, where the docs are, which database."""
    from flowdeck import __version__
    from flowdeck.services.first_start import base_url

    url = base_url(settings)
    lines = [
        f"flowdeck {__version__} listening on {settings.host}:{settings.port}",
        f"  console:  {url}/",
        f"  API docs: {url}/docs (ReDoc: {url}/redoc)",
        f"  database: {shown_url(settings.db_url)}",
    ]
    if settings.distributed:
        lines.append(f"  broker:   {shown_url_plain(settings.broker_url)} (distributed mode)")
    return "\n".join(lines) + "\n"


def shown_url_plain(url: str) -> str:
    """Any URL without its credentials."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return parts._replace(netloc=netloc).geturl()
