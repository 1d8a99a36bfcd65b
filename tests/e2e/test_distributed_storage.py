"""Distributed file storage as deployed: a server refuses unshared local storage at start, and
two API processes on S3 (moto's server) serve each other's uploads."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import S3_KEYS, s3_bucket_name
from tests.e2e.cli_support import assert_clean_failure, flowdeck
from tests.e2e.cluster import Cluster, client

UNSHARED = {
    "FLOWDECK_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test",
    "FLOWDECK_BROKER_URL": "redis://127.0.0.1:6379/0",
    "FLOWDECK_REDIS_URL": "redis://127.0.0.1:6379/0",
}


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_a_distributed_process_refuses_unshared_local_storage(command: str, tmp_path: Path) -> None:
    proc = flowdeck(command, env={**UNSHARED, "FLOWDECK_DATA_DIR": str(tmp_path)})
    assert_clean_failure(
        proc, "FLOWDECK_STORAGE=s3", "FLOWDECK_S3_BUCKET", "FLOWDECK_STORAGE_SHARED=true"
    )


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.timeout(120)
def test_two_api_processes_share_files_through_s3(tmp_path: Path, s3_endpoint: str) -> None:
    with Cluster(tmp_path) as cluster:
        cluster.settings.update(
            FLOWDECK_STORAGE="s3",
            FLOWDECK_STORAGE_SHARED="false",
            FLOWDECK_S3_BUCKET=s3_bucket_name(),
            FLOWDECK_S3_ENDPOINT_URL=s3_endpoint,
            FLOWDECK_S3_ACCESS_KEY_ID=S3_KEYS["s3_access_key_id"],
            FLOWDECK_S3_SECRET_ACCESS_KEY=S3_KEYS["s3_secret_access_key"],
        )
        one, two = cluster.start_api("api1"), cluster.start_api("api2")
        content = bytes(range(256)) * 400
        with client(one) as first, client(two) as second:
            flow_id = first.post("/api/v1/flows/", json={"name": "f", "data": {}}).json()["id"]
            upload = first.post(
                f"/api/v1/files/upload/{flow_id}", files={"file": ("a.bin", content)}
            )
            assert upload.status_code == 201, upload.text
            name = upload.json()["file_path"].split("/")[1]
            got = second.get(f"/api/v1/files/download/{flow_id}/{name}")
            assert got.status_code == 200, got.text
            assert got.content == content
            made = second.post("/api/v2/files", files={"file": ("n.txt", b"v2")}).json()
            assert first.get(f"/api/v2/files/{made['id']}").content == b"v2"
        assert not (tmp_path / "data" / "files").exists()
