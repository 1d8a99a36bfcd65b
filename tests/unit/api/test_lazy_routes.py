"""A guarded route is analysed by FastAPI when first used, and then serves as if built at once."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel

from flowdeck.access.declare import public
from flowdeck.access.guard import GuardedRoute, guarded_router


class Item(BaseModel):
    name: str
    size: int = 1


def _app() -> tuple[FastAPI, list[GuardedRoute]]:
    router = guarded_router(prefix="/api")

    @router.post("/items/{item_id}", status_code=201)
    @public
    async def create(item_id: int, item: Item) -> Item:
        return Item(name=f"{item.name}-{item_id}", size=item.size)

    @router.get("/other")
    @public
    async def other() -> dict[str, str]:
        return {"other": "yes"}

    app = FastAPI()
    app.include_router(router)
    routes = [r for r in router.routes if isinstance(r, GuardedRoute)]
    return app, routes


def test_registration_leaves_the_analysis_for_later() -> None:
    _, routes = _app()
    assert routes
    assert all("dependant" not in vars(r) for r in routes)
    # What matching needs is there already.
    assert {r.path for r in routes} == {"/api/items/{item_id}", "/api/other"}
    assert routes[0].methods == {"POST"}
    assert routes[0].path_regex.match("/api/items/3")


def test_any_other_attribute_builds_the_route_once() -> None:
    _, routes = _app()
    route = routes[0]
    dependant = route.dependant
    assert dependant is route.dependant
    assert route.body_field is not None
    assert route.status_code == 201
    assert route.unique_id == "create_api_items__item_id__post"


@pytest.mark.asyncio
async def test_a_lazily_built_route_validates_and_answers_as_fastapi_does() -> None:
    app, _ = _app()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        made = await c.post("/api/items/4", json={"name": "a"})
        assert made.status_code == 201
        assert made.json() == {"name": "a-4", "size": 1}
        bad = await c.post("/api/items/4", json={"size": "x"})
        assert bad.status_code == 422
        assert {tuple(e["loc"]) for e in bad.json()["detail"]} == {
            ("body", "name"),
            ("body", "size"),
        }
        assert (await c.get("/api/items/4")).status_code == 405
        assert (await c.get("/api/other")).json() == {"other": "yes"}
    schema = app.openapi()
    assert set(schema["paths"]) == {"/api/items/{item_id}", "/api/other"}
    assert "Item" in schema["components"]["schemas"]
