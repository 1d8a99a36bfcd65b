"""Two API processes (two apps, one database) behind a balancer: files stored by one are
served by the other when they share an S3 bucket; with per-process local storage they are not."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from pathlib import Path

import httpx
import pytest
from tests.conftest import ADMIN, S3_KEYS, login, s3_bucket_name
from tests.integration.api.flow_docs import create
from tests.integration.api.test_files import BLOB, V1, V2, upload_v1
from tests.unit.storage.conftest import s3_storage

from flowdeck.api.app import create_app
from flowdeck.settings import Settings

Pair = tuple[httpx.AsyncClient, httpx.AsyncClient]


@pytest.fixture
async def two_apps(
    tmp_path: Path, database_url: str
) -> AsyncIterator[Callable[..., AsyncIterator[Pair]]]:
    """Start two apps on one database, each with its own data dir, and a client for each."""
    stack = AsyncExitStack()

    async def start(**storage: object) -> Pair:
        clients: list[httpx.AsyncClient] = []
        for name in ("api1", "api2"):
            settings = Settings(
                data_dir=tmp_path / name,
                database_url=database_url,
                superuser=ADMIN[0],
                superuser_password=ADMIN[1],
                secret_key="test-secret-key-that-is-long-enough-for-hs256",
                **storage,  # type: ignore[arg-type]
            )
            app = create_app(settings)
            await stack.enter_async_context(app.router.lifespan_context(app))
            client = await stack.enter_async_context(
                # An unexpected error is answered (500 JSON) rather than raised into the test.
                httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url="http://test",
                )
            )
            client.headers["Authorization"] = f"Bearer {await login(client, *ADMIN)}"
            client.cookies.clear()
            clients.append(client)
        return clients[0], clients[1]

    yield start  # type: ignore[misc]
    await stack.aclose()


async def test_files_uploaded_through_one_app_download_through_the_other(
    two_apps: Callable[..., AsyncIterator[Pair]], s3_endpoint: str, tmp_path: Path
) -> None:
    api1, api2 = await two_apps(
        storage="s3", s3_bucket=s3_bucket_name(), s3_endpoint_url=s3_endpoint, **S3_KEYS
    )
    # v1: a flow's files.
    flow_id = (await create(api1, "Shared files"))["id"]
    name = (await upload_v1(api1, flow_id, "data.bin", BLOB)).json()["file_path"].split("/")[1]
    got = await api2.get(f"{V1}/download/{flow_id}/{name}")
    assert got.status_code == 200, got.text
    assert got.content == BLOB
    assert got.headers["content-length"] == str(len(BLOB))
    assert (await api2.get(f"{V1}/list/{flow_id}")).json() == {"files": [name]}
    assert (await api2.delete(f"{V1}/delete/{flow_id}/{name}")).status_code == 200
    assert (await api1.get(f"{V1}/download/{flow_id}/{name}")).status_code == 404

    # v2: a user's own files, appended to through the other app.
    made = (await api2.post(V2, files={"file": ("notes.txt", b"first")})).json()
    assert (await api1.get(f"{V2}/{made['id']}")).content == b"first"
    appended = await api1.post(
        V2, files={"file": ("notes.txt", b"+second")}, params={"append": "true"}
    )
    assert appended.json()["id"] == made["id"]
    assert (await api2.get(f"{V2}/{made['id']}")).content == b"first+second"
    zipped = await api2.post(f"{V2}/batch/", json=[made["id"]])
    assert zipped.status_code == 200
    assert (await api1.delete(V2)).json()["files_deleted"] == 1
    assert (await api2.get(f"{V2}/{made['id']}")).status_code == 404
    # Nothing went to either process's disk.
    assert not (tmp_path / "api1" / "files").exists()
    assert not (tmp_path / "api2" / "files").exists()


async def test_an_unusable_bucket_is_a_clean_500_not_a_missing_file(
    two_apps: Callable[..., AsyncIterator[Pair]], s3_endpoint: str
) -> None:
    bucket = s3_bucket_name()
    api1, api2 = await two_apps(
        storage="s3", s3_bucket=bucket, s3_endpoint_url=s3_endpoint, **S3_KEYS
    )
    flow_id = (await create(api1, "Lost bucket"))["id"]
    name = (await upload_v1(api1, flow_id, "data.bin", BLOB)).json()["file_path"].split("/")[1]
    operator = s3_storage(s3_endpoint, bucket)
    await operator.start()
    try:
        await operator.delete_folder(flow_id)
        await operator.client.delete_bucket(Bucket=bucket)
    finally:
        await operator.close()
    failed = await api2.get(f"{V1}/download/{flow_id}/{name}")
    assert failed.status_code == 500
    assert failed.json()["code"] == "internal_error"
    assert failed.json()["request_id"]


async def test_per_process_local_storage_misses_the_other_apps_files(
    two_apps: Callable[..., AsyncIterator[Pair]],
) -> None:
    """What the S3 backend fixes (and why the distributed mode refuses unshared local storage)."""
    api1, api2 = await two_apps()
    flow_id = (await create(api1, "Unshared files"))["id"]
    name = (await upload_v1(api1, flow_id, "data.bin", BLOB)).json()["file_path"].split("/")[1]
    assert (await api1.get(f"{V1}/download/{flow_id}/{name}")).status_code == 200
    missing = await api2.get(f"{V1}/download/{flow_id}/{name}")
    assert missing.status_code == 404
    assert missing.json()["field"] == "file_name"
