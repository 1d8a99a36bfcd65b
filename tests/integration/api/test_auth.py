"""Login, tokens, API keys, users, and the 401/403 rules."""

from __future__ import annotations

import httpx
from tests.conftest import ADMIN


async def test_login_returns_tokens_and_cookies(anon: httpx.AsyncClient) -> None:
    resp = await anon.post("/api/v1/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    assert resp.status_code == 200
    body = resp.json()
    assert body["token_type"] == "bearer"
    assert body["access_token"]
    assert body["refresh_token"]
    assert "access_token_lf" in resp.cookies
    assert "refresh_token_lf" in resp.cookies


async def test_wrong_password_is_401(anon: httpx.AsyncClient) -> None:
    resp = await anon.post("/api/v1/login", data={"username": ADMIN[0], "password": "nope"})
    assert resp.status_code == 401
    assert resp.json()["request_id"]


async def test_whoami_needs_credentials(anon: httpx.AsyncClient) -> None:
    assert (await anon.get("/api/v1/users/whoami")).status_code == 401


async def test_whoami_with_token_and_cookie(anon: httpx.AsyncClient) -> None:
    await anon.post("/api/v1/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    resp = await anon.get("/api/v1/users/whoami")  # the access cookie authenticates
    assert resp.status_code == 200
    assert resp.json()["username"] == ADMIN[0]
    assert resp.json()["is_superuser"] is True


async def test_refresh_issues_new_tokens(anon: httpx.AsyncClient) -> None:
    tokens = (
        await anon.post("/api/v1/login", data={"username": ADMIN[0], "password": ADMIN[1]})
    ).json()
    anon.cookies.clear()
    resp = await anon.post("/api/v1/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert resp.status_code == 200
    me = await anon.get(
        "/api/v1/users/whoami", headers={"Authorization": f"Bearer {resp.json()['access_token']}"}
    )
    assert me.status_code == 200
    # An access token is not a refresh token.
    bad = await anon.post("/api/v1/refresh", json={"refresh_token": tokens["access_token"]})
    assert bad.status_code == 401


async def test_api_key_shown_once_and_accepted(
    client: httpx.AsyncClient, anon: httpx.AsyncClient
) -> None:
    created = (await client.post("/api/v1/api_key/", json={"name": "ci"})).json()
    key = created["api_key"]
    assert key.startswith("sk-")
    listed = (await client.get("/api/v1/api_key/")).json()
    assert listed["total_count"] == 1
    assert listed["api_keys"][0]["api_key"] != key  # only a preview afterwards
    by_header = await anon.get("/api/v1/users/whoami", headers={"x-api-key": key})
    assert by_header.status_code == 200
    by_query = await anon.get("/api/v1/users/whoami", params={"x-api-key": key})
    assert by_query.status_code == 200
    assert (
        await anon.get("/api/v1/users/whoami", headers={"x-api-key": "sk-wrong"})
    ).status_code == 401
    assert (await client.delete(f"/api/v1/api_key/{created['id']}")).status_code == 200
    assert (await anon.get("/api/v1/users/whoami", headers={"x-api-key": key})).status_code == 401


async def test_user_admin_needs_the_users_privileges(client: httpx.AsyncClient, make_user) -> None:  # type: ignore[no-untyped-def]
    alice = await make_user("alice")
    # A developer reads the tenant's users (sharing, reviewers) but administers none.
    assert (await alice.get("/api/v1/users/")).status_code == 200
    refused = await alice.post("/api/v1/users/", json={"username": "x", "password": "pw-123456"})
    assert (refused.status_code, refused.json()["module"]) == (403, "users")
    listed = (await client.get("/api/v1/users/")).json()
    assert {u["username"] for u in listed["users"]} == {"admin", "alice"}
    dup = await client.post(
        "/api/v1/users/", json={"username": "alice", "password": "another-pw-1"}
    )
    assert dup.status_code == 409
    me = (await alice.get("/api/v1/users/whoami")).json()
    assert (
        await alice.patch(f"/api/v1/users/{me['id']}", json={"is_superuser": True})
    ).status_code == 403
    assert (await alice.patch(f"/api/v1/users/{me['id']}", json={"nickname": "Al"})).json()[
        "nickname"
    ] == "Al"
    assert (await client.delete(f"/api/v1/users/{me['id']}")).status_code == 200


async def test_unknown_route_and_bad_body_are_json(client: httpx.AsyncClient) -> None:
    resp = await client.post("/api/v1/users/", json={"username": ""})
    assert resp.status_code == 422
    assert "password" in resp.json()["message"]
    assert resp.headers["x-request-id"]
