"""Every storage backend under the same contract tests: local disk, and S3 on a real server."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flowdeck.storage import LocalStorage, Storage
from flowdeck.storage.s3 import MIN_PART, S3Storage
from tests.conftest import S3_KEYS, s3_bucket_name


def s3_storage(endpoint: str, bucket: str, prefix: str = "") -> S3Storage:
    return S3Storage(
        bucket,
        prefix=prefix,
        endpoint_url=endpoint,
        access_key_id=S3_KEYS["s3_access_key_id"],
        secret_access_key=S3_KEYS["s3_secret_access_key"],
        # The smallest parts S3 allows, so a test file of a few MiB goes multipart.
        part_size=MIN_PART,
    )


@pytest.fixture(params=["local", "s3"])
async def storage(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Storage]:
    backend: Storage
    if request.param == "local":
        backend = LocalStorage(tmp_path / "files")
    else:
        backend = s3_storage(request.getfixturevalue("s3_endpoint"), s3_bucket_name(), "fd/")
    await backend.start()
    yield backend
    await backend.close()
