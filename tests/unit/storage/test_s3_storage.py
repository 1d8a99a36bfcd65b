"""S3Storage specifics on moto's S3 server: the bucket, prefixes, uploads it aborts, errors."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator

import pytest

from flowdeck.errors import InvalidInputError
from flowdeck.storage import StorageError, one_chunk
from flowdeck.storage.s3 import S3Storage
from tests.conftest import s3_bucket_name
from tests.unit.storage.conftest import s3_storage
from tests.unit.storage.test_storage_contract import LARGE, failing_after, in_chunks


@pytest.fixture
async def s3(s3_endpoint: str) -> AsyncIterator[S3Storage]:
    storage = s3_storage(s3_endpoint, s3_bucket_name(), "files/")
    await storage.start()
    yield storage
    await storage.close()


async def open_uploads(storage: S3Storage) -> list[str]:
    listed = await storage.client.list_multipart_uploads(Bucket=storage.bucket)
    return [u["Key"] for u in listed.get("Uploads", []) if "Key" in u]


async def test_start_creates_the_bucket_once(s3_endpoint: str) -> None:
    bucket = s3_bucket_name()
    first, second = s3_storage(s3_endpoint, bucket), s3_storage(s3_endpoint, bucket)
    await first.start()
    await first.start()  # a second start is a no-op
    await second.start()  # the bucket is already there
    try:
        await first.save("f", "a.txt", one_chunk(b"shared"))
        assert await second.read("f", "a.txt") == b"shared"
        buckets = (await first.client.list_buckets())["Buckets"]
        assert [b.get("Name") for b in buckets].count(bucket) == 1
    finally:
        await first.close()
        await second.close()
    with pytest.raises(RuntimeError, match="start"):
        await first.read("f", "a.txt")


async def test_objects_sit_under_the_prefix_with_their_type(s3: S3Storage) -> None:
    await s3.save("flow-1", "pic.png", one_chunk(b"png"))
    head = await s3.client.head_object(Bucket=s3.bucket, Key="files/flow-1/pic.png")
    assert head["ContentType"] == "image/png"
    other = S3Storage(s3.bucket, prefix="other/", endpoint_url=s3.endpoint_url)
    other._key_id, other._secret = s3._key_id, s3._secret
    await other.start()
    try:
        assert await other.names("flow-1") == []
        assert not await other.exists("flow-1", "pic.png")
        await other.save("flow-1", "pic.png", one_chunk(b"other"))
        assert await s3.read("flow-1", "pic.png") == b"png"
        assert await other.delete_folder("flow-1") == 1
        assert await s3.names("flow-1") == ["pic.png"]
    finally:
        await other.close()


async def test_failed_multipart_uploads_are_aborted(s3: S3Storage) -> None:
    await s3.save("f", "a.bin", one_chunk(b"old"))
    with pytest.raises(ConnectionError):
        await s3.save("f", "a.bin", failing_after(LARGE))
    with pytest.raises(InvalidInputError):
        await s3.save("f", "a.bin", in_chunks(LARGE), max_bytes=len(LARGE) - 1)
    assert await open_uploads(s3) == []
    assert await s3.read("f", "a.bin") == b"old"


async def test_many_files_in_a_folder_list_and_delete(s3: S3Storage) -> None:
    # More than one page of ListObjectsV2 and more than one DeleteObjects call.
    s3.batch = 3
    names = [f"{i:04}.txt" for i in range(8)]
    for name in names:
        await s3.client.put_object(Bucket=s3.bucket, Key=s3.key("big", name), Body=b"x")
    assert await s3.names("big") == names
    assert await s3.delete_folder("big") == len(names)
    assert await s3.names("big") == []


async def test_a_vanished_bucket_is_a_storage_error_not_a_missing_file(s3: S3Storage) -> None:
    await s3.client.delete_bucket(Bucket=s3.bucket)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        await s3.read("f", "a.txt")
    with pytest.raises(OSError, match="NoSuchBucket"):
        await s3.save("f", "a.txt", one_chunk(b"x"))


async def test_an_unreachable_store_fails_start_naming_the_settings() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    storage = s3_storage(f"http://127.0.0.1:{port}", "nowhere")
    storage.attempts = 1
    with pytest.raises(StorageError) as caught:
        await storage.start()
    message = str(caught.value)
    assert "nowhere" in message
    assert "FLOWDECK_S3_ENDPOINT_URL" in message
    with pytest.raises(RuntimeError):
        _ = storage.client
