"""The cost of the access check and tenant scoping per request, against the same request
without them.

Two routes of one app answer the same JSON: one on a plain router whose endpoint takes the
caller (authentication, as every route did before access was declared), one on a guarded
router declaring a privilege (authentication, the tenant the request acts in, the
principal's privileges, the set lookup). Both are called straight through the ASGI app in
this process, alternately, with the same bearer token and a `Tenant-Id` header, so the
difference per request is the check alone. Target (issue 12): at most 20 µs.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter

from bench._util import header, quick_mode, verdict
from flowdeck.access.catalog import Module, Op
from flowdeck.access.declare import requires
from flowdeck.access.guard import guarded_router
from flowdeck.api.app import create_app
from flowdeck.api.deps import CurrentUser
from flowdeck.settings import Settings

TARGET_US = 20.0
PASSWORD = "bench-password"


def _routes() -> tuple[APIRouter, APIRouter]:
    plain, guarded = APIRouter(), guarded_router()

    @plain.get("/bench/plain")
    async def without_check(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.id}

    @guarded.get("/bench/guarded")
    @requires(Module.FLOWS, Op.READ)
    async def with_check(user: CurrentUser) -> dict[str, Any]:
        return {"user": user.id}

    return plain, guarded


async def _call(app: Any, path: str, headers: list[tuple[bytes, bytes]]) -> int:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    await app(scope, receive, send)
    return status


async def _measure(rounds: int, per_round: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="flowdeck-bench-access-") as tmp:
        settings = Settings(
            data_dir=Path(tmp),
            database_url=f"sqlite:///{tmp}/flowdeck.db",
            superuser="admin",
            superuser_password=PASSWORD,
            secret_key="bench-secret-key-long-enough-for-hs256-signing",
            log_level="warning",
        )
        app = create_app(settings)
        for router in _routes():
            app.include_router(router)
        # First in the routing table, so neither route pays for matching the app's others.
        routes = app.router.routes
        routes[:0] = [routes.pop(), routes.pop()]
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as c:
                login = await c.post(
                    "/api/v1/login", data={"username": "admin", "password": PASSWORD}
                )
                token = login.json()["access_token"]
                tenant = (
                    await c.get(
                        "/api/v1/users/whoami", headers={"Authorization": f"Bearer {token}"}
                    )
                ).json()["tenant_id"]
            headers = [
                (b"authorization", f"Bearer {token}".encode()),
                (b"tenant-id", tenant.encode()),
            ]
            for path in ("/bench/plain", "/bench/guarded"):
                assert await _call(app, path, headers) == 200, path
            plain: list[float] = []
            guarded: list[float] = []
            for _ in range(rounds):
                for path, times in (("/bench/plain", plain), ("/bench/guarded", guarded)):
                    start = time.perf_counter()
                    for _ in range(per_round):
                        await _call(app, path, headers)
                    times.append((time.perf_counter() - start) / per_round)
    return statistics.median(plain), statistics.median(guarded)


def main(quick: bool | None = None) -> bool:
    quick = quick_mode(quick)
    header("access check and tenant scoping per request")
    rounds, per_round = (3, 200) if quick else (15, 2000)
    plain, guarded = asyncio.run(_measure(rounds, per_round))
    cost_us = (guarded - plain) * 1e6
    print(
        f"  without the check {plain * 1e6:.1f} µs per request, with it {guarded * 1e6:.1f} µs "
        f"({guarded / plain:.2f}x): the check costs {cost_us:.1f} µs"
    )
    if quick:
        return True
    return verdict("access check ≤ 20 µs per request", cost_us <= TARGET_US, f"{cost_us:.1f} µs")


if __name__ == "__main__":
    import sys

    sys.exit(0 if main() else 1)
