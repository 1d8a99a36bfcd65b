"""A tenant's configs and dictionary: the resource layer's CRUD, per tenant."""

from __future__ import annotations

import httpx
from tests.integration.api.test_tenants import _tenant


async def test_configs_crud_sort_search_and_uniqueness(client: httpx.AsyncClient) -> None:
    for key, value in (("b.key", "2"), ("a.key", "1"), ("c.key", "3")):
        made = await client.post(
            "/api/v1/configs/", json={"config_key": key, "config_name": key, "config_value": value}
        )
        assert made.status_code == 201, made.text
        assert made.json()["c_uid"] == made.json()["m_uid"]
    keys = [c["config_key"] for c in (await client.get("/api/v1/configs")).json()]
    assert keys == ["a.key", "b.key", "c.key"]
    desc = await client.get(
        "/api/v1/configs/", params={"sort_by": "config_value", "sort_order": "desc"}
    )
    assert [c["config_value"] for c in desc.json()] == ["3", "2", "1"]
    found = (await client.get("/api/v1/configs/", params={"search": "b."})).json()
    assert [c["config_key"] for c in found] == ["b.key"]

    config_id = found[0]["id"]
    patched = await client.patch(f"/api/v1/configs/{config_id}", json={"config_value": "20"})
    assert patched.json()["config_value"] == "20"
    assert patched.json()["config_key"] == "b.key"
    assert (await client.delete(f"/api/v1/configs/{config_id}")).status_code == 204
    assert (await client.get(f"/api/v1/configs/{config_id}")).status_code == 404
    assert (await client.get("/api/v1/configs/9223372036854775808")).status_code == 422

    missing = await client.post("/api/v1/configs/", json={"config_key": "x"})
    assert missing.status_code == 422


async def test_configs_belong_to_their_tenant(client: httpx.AsyncClient) -> None:
    acme = await _tenant(client, "acme")
    in_acme = {"Tenant-Id": acme}
    body = {"config_key": "theme", "config_name": "Theme", "config_value": "dark"}
    home = await client.post("/api/v1/configs/", json=body)
    there = await client.post("/api/v1/configs/", json=body, headers=in_acme)
    assert home.status_code == there.status_code == 201  # unique within a tenant only
    assert [c["id"] for c in (await client.get("/api/v1/configs/", headers=in_acme)).json()] == [
        there.json()["id"]
    ]
    home_id = home.json()["id"]
    assert (await client.get(f"/api/v1/configs/{home_id}", headers=in_acme)).status_code == 404
    assert (await client.delete(f"/api/v1/configs/{home_id}", headers=in_acme)).status_code == 404
    assert (await client.get(f"/api/v1/configs/{home_id}")).status_code == 200


async def test_dictionary_indexes_and_items(client: httpx.AsyncClient) -> None:
    index = await client.post(
        "/api/v1/dictionary/indexes/",
        json={"config_key": "colour", "config_name": "Colour", "config_en_name": "Colour"},
    )
    assert index.status_code == 201, index.text
    assert index.json()["parent_id"] == 0
    index_id = index.json()["config_id"]
    for order, key in ((2, "red"), (1, "blue")):
        item = await client.post(
            f"/api/v1/dictionary/indexes/{index_id}/items",
            json={
                "config_key": key,
                "config_name": key,
                "config_en_name": key,
                "config_value": key[0],
                "key_order": order,
            },
        )
        assert item.status_code == 201, item.text
        assert item.json()["parent_id"] == index_id
    items = await client.get(
        f"/api/v1/dictionary/indexes/{index_id}/items", params={"sort_by": "key_order"}
    )
    assert [i["config_key"] for i in items.json()] == ["blue", "red"]
    # Items are not indexes, and an item is not an index one can add items to.
    assert [i["config_key"] for i in (await client.get("/api/v1/dictionary/indexes")).json()] == [
        "colour"
    ]
    item_id = items.json()[0]["config_id"]
    nested = await client.post(
        f"/api/v1/dictionary/indexes/{item_id}/items",
        json={"config_key": "x", "config_name": "x", "config_en_name": "x", "config_value": "x"},
    )
    assert nested.status_code == 404
    assert nested.json()["field"] == "index_id"

    patched = await client.patch(f"/api/v1/dictionary/items/{item_id}", json={"key_order": 9})
    assert patched.json()["key_order"] == 9
    assert (await client.delete(f"/api/v1/dictionary/items/{item_id}")).status_code == 204
    renamed = await client.patch(f"/api/v1/dictionary/indexes/{index_id}", json={"note": "n"})
    assert renamed.json()["note"] == "n"
    assert (await client.delete(f"/api/v1/dictionary/indexes/{index_id}")).status_code == 204
    assert (await client.get(f"/api/v1/dictionary/indexes/{index_id}/items")).status_code == 404
