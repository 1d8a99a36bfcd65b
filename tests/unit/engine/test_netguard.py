"""The network policy: what APIRequest, OpenAIChat (and any guarded client) may reach."""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpcore
import httpx
import orjson
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from flowdeck.engine import Engine
from flowdeck.engine.netguard import BlockedAddress, GuardedBackend, guarded_client
from flowdeck.engine.netpolicy import NetworkPolicy
from flowdeck.engine.results import RunStatus
from flowdeck.settings import Settings

from .components._support import flow, run, serve

SETTING = "FLOWDECK_ALLOW_PRIVATE_NETWORKS"


async def _host(request: Request) -> Response:
    return JSONResponse({"host": request.headers["host"]})


async def _bounce(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=302)


@pytest.fixture(scope="module")
def local_url() -> Iterator[str]:
    app = Starlette(routes=[Route("/host", _host), Route("/bounce", _bounce)])
    with serve(app) as url:
        yield url


@pytest.fixture
async def closed_engine() -> AsyncIterator[Engine]:
    """An engine with the server default: public addresses only."""
    eng = Engine()
    yield eng
    await eng.aclose()


@pytest.fixture
async def open_engine() -> AsyncIterator[Engine]:
    eng = Engine(network=NetworkPolicy(allow_private=True))
    yield eng
    await eng.aclose()


def _get(url: str) -> dict[str, Any]:
    return flow([("api", "APIRequest", {"url_input": url})])


async def test_loopback_is_refused_by_default_naming_the_setting(
    closed_engine: Engine, local_url: str
) -> None:
    for url in (f"{local_url}/host", local_url.replace("127.0.0.1", "localhost") + "/host"):
        ran = await run(closed_engine, _get(url))
        assert ran.result.status is RunStatus.FAILED
        assert ran.result.error_vertex == "api"
        error = ran.result.error or ""
        assert "loopback or private network" in error, error
        assert f"{SETTING}=true" in error


async def test_loopback_is_reached_when_allowed_and_the_name_is_kept(
    open_engine: Engine, local_url: str
) -> None:
    url = local_url.replace("127.0.0.1", "localhost")
    ran = await run(open_engine, _get(f"{url}/host"))
    assert ran.out("api", "data")["result"] == {"host": url.removeprefix("http://")}


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://169.254.10.1/",
        "http://[fe80::1]/",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "http://metadata.google.internal/computeMetadata/v1/",
        "http://METADATA.google.internal./x",
    ],
)
async def test_metadata_and_link_local_are_refused_even_when_private_is_allowed(
    open_engine: Engine, url: str
) -> None:
    ran = await run(open_engine, _get(url))
    assert ran.result.status is RunStatus.FAILED
    assert "refused to connect" in (ran.result.error or ""), ran.result.error
    assert "metadata" in (ran.result.error or "")


async def test_a_redirect_is_checked_again(open_engine: Engine, local_url: str) -> None:
    to = "http://169.254.169.254/latest/meta-data/"
    ran = await run(open_engine, _get(f"{local_url}/bounce?to={to}"))
    assert ran.result.status is RunStatus.FAILED
    assert "refused to connect: 169.254.169.254" in (ran.result.error or "")


async def test_the_server_itself_is_refused(local_url: str) -> None:
    port = int(local_url.rsplit(":", 1)[1])
    policy = NetworkPolicy(allow_private=True, own_host="127.0.0.1", own_port=port)
    eng = Engine(network=policy)
    try:
        ran = await run(eng, _get(f"{local_url}/host"))
    finally:
        await eng.aclose()
    assert f"127.0.0.1:{port} is this server itself" in (ran.result.error or "")
    # Listening on every interface: this machine's other addresses are the server too.
    every = NetworkPolicy(allow_private=True, own_host="0.0.0.0", own_port=port)
    assert every.refusal("h", ipaddress.ip_address("127.0.0.2"), port) is not None
    assert every.refusal("h", ipaddress.ip_address("10.255.255.254"), port) is None
    assert every.refusal("h", ipaddress.ip_address("127.0.0.1"), port + 1) is None


async def test_the_connection_goes_to_the_checked_address(local_url: str) -> None:
    """DNS rebinding: the name is resolved once, checked, and the checked address is dialled."""
    dialled: list[str] = []

    class Recording(httpcore.AnyIOBackend):
        async def connect_tcp(self, host: str, port: int, **options: Any) -> Any:
            dialled.append(host)
            return await super().connect_tcp(host, port, **options)

    backend = GuardedBackend(NetworkPolicy(allow_private=True), Recording())
    port = int(local_url.rsplit(":", 1)[1])
    async with httpcore.AsyncConnectionPool(network_backend=backend) as pool:
        response = await pool.request("GET", f"http://localhost:{port}/host")
    assert orjson.loads(response.content) == {"host": f"localhost:{port}"}
    assert dialled in (["127.0.0.1"], ["::1"])


async def test_a_guarded_client_refuses_before_connecting() -> None:
    async with guarded_client(NetworkPolicy(), timeout=5) as client:
        with pytest.raises(BlockedAddress, match=SETTING):
            await client.get("http://10.0.0.1:9/")
        with pytest.raises(httpx.ConnectError, match="cannot resolve"):
            await client.get("http://no-such-host.invalid/")


async def test_model_component_is_guarded(closed_engine: Engine, local_url: str) -> None:
    doc = flow([("llm", "OpenAIChat", {"base_url": f"{local_url}/v1", "input_value": "hi"})])
    ran = await run(closed_engine, doc)
    assert ran.result.status is RunStatus.FAILED
    assert f"{SETTING}=true" in (ran.result.error or ""), ran.result.error


def test_private_networks_default_follows_auto_login(tmp_path: Any) -> None:
    assert Settings(data_dir=tmp_path).private_networks_allowed is False
    assert Settings(data_dir=tmp_path, auto_login=True).private_networks_allowed is True
    explicit = Settings(data_dir=tmp_path, auto_login=True, allow_private_networks=False)
    assert explicit.private_networks_allowed is False


def test_refusals_name_the_address_once_for_a_literal() -> None:
    policy = NetworkPolicy()
    loopback = ipaddress.ip_address("127.0.0.1")
    assert policy.refusal("127.0.0.1", loopback, 80) == (
        f"127.0.0.1 is on a loopback or private network; set {SETTING}=true to allow it"
    )
    assert (policy.refusal("db.internal", loopback, 80) or "").startswith("db.internal (127.0.0.1)")
    assert policy.refusal("example.com", ipaddress.ip_address("93.184.216.34"), 443) is None
