"""The router prefilter answers exactly as FastAPI's walk over every route would."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from starlette.routing import Match

from flowdeck.api.paths import both
from flowdeck.api.routing import PrefilteredRouter


def _app() -> tuple[FastAPI, PrefilteredRouter]:
    items = PrefilteredRouter(prefix="/api/v1")

    @items.get("/items/{item_id}")
    async def read(item_id: int) -> dict[str, int]:
        return {"id": item_id}

    @items.post("/items")
    async def create() -> dict[str, str]:
        return {"made": "yes"}

    other = PrefilteredRouter()

    @other.get("/other")
    async def read_other() -> dict[str, str]:
        return {"other": "yes"}

    app = FastAPI()
    app.include_router(items)
    app.include_router(other, prefix="/under")
    return app, items


def test_a_path_none_of_its_routes_take_is_ruled_out_in_one_test() -> None:
    _, items = _app()
    scope = {"type": "http", "path": "/api/v1/nothing", "method": "GET", "root_path": ""}
    assert items.matches(scope) == (Match.NONE, {})


@pytest.mark.asyncio
async def test_answers_are_those_of_the_full_walk() -> None:
    app, _ = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/api/v1/items/7")).json() == {"id": 7}
        assert (await c.post("/api/v1/items")).json() == {"made": "yes"}
        wrong_method = await c.get("/api/v1/items")
        assert wrong_method.status_code == 405
        assert wrong_method.headers["allow"] == "POST"
        assert (await c.get("/api/v1/items/x")).status_code == 422
        assert (await c.get("/api/v1/missing")).status_code == 404
        # Included under a prefix: the prefix is part of the path the filter sees.
        assert (await c.get("/under/other")).json() == {"other": "yes"}
        assert (await c.get("/other")).status_code == 404


def _twinned() -> tuple[FastAPI, PrefilteredRouter]:
    router = PrefilteredRouter(prefix="/p")

    async def upload() -> dict[str, str]:
        return {"route": "upload"}

    async def one(item_id: str) -> dict[str, str]:
        return {"route": "one", "id": item_id}

    both(router, "POST", "/upload/")(upload)
    both(router, "GET", "/{item_id}")(one)
    both(router, "DELETE", "/{item_id}")(one)
    app = FastAPI()
    app.include_router(router)
    return app, router


def test_a_hidden_twin_is_an_alias_not_a_second_route() -> None:
    _, router = _twinned()
    assert [r.path for r in router.routes] == ["/p/upload/", "/p/{item_id}", "/p/{item_id}"]
    assert router.aliases == ["/p/upload", "/p/{item_id}/", "/p/{item_id}/"]


@pytest.mark.asyncio
async def test_twins_answer_as_their_routes_do() -> None:
    app, _ = _twinned()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        for path in ("/p/upload/", "/p/upload"):
            assert (await c.post(path)).json() == {"route": "upload"}
        for path in ("/p/7", "/p/7/"):
            assert (await c.get(path)).json() == {"route": "one", "id": "7"}
        # A twin that fully takes the path wins over a route lacking only the method...
        assert (await c.get("/p/upload")).json() == {"route": "one", "id": "upload"}
        # ...and a wrong method on a twin is still 405 (Allow as Starlette gives it).
        refused = await c.put("/p/7/")
        assert refused.status_code == 405
        assert "GET" in refused.headers["allow"]


@pytest.mark.asyncio
async def test_a_route_added_after_the_first_request_is_served() -> None:
    # The router answers FastAPI's "have my routes changed" from its own count of changes.
    app, items = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        assert (await c.get("/api/v1/items/1")).status_code == 200

        @items.get("/later")
        async def later() -> dict[str, str]:
            return {"later": "yes"}

        assert (await c.get("/api/v1/later")).json() == {"later": "yes"}
