"""The Storage contract, run on every backend (see conftest): what the file routes rely on."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator

import anyio
import pytest

from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.storage import Storage, one_chunk

# More than two 5 MiB parts, sent in 64 KiB pieces: S3 takes it as a multipart upload.
LARGE = os.urandom(11 * 1024 * 1024 + 123)


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def in_chunks(data: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


async def failing_after(first: bytes) -> AsyncIterator[bytes]:
    yield first
    raise ConnectionError("client went away")


def test_is_a_storage(storage: Storage) -> None:
    assert isinstance(storage, Storage)


async def test_round_trip_list_size_delete(storage: Storage) -> None:
    data = bytes(range(256)) * 1000
    assert await storage.save("flow-1", "a.bin", pieces(data[:1000], data[1000:])) == len(data)
    assert await storage.read("flow-1", "a.bin") == data
    assert await storage.size("flow-1", "a.bin") == len(data)
    assert await storage.exists("flow-1", "a.bin")
    chunks = [c async for c in await storage.open("flow-1", "a.bin", chunk_size=4096)]
    assert len(chunks) > 1
    assert max(len(c) for c in chunks) <= 4096
    assert b"".join(chunks) == data
    await storage.save("flow-1", "b.txt", one_chunk(b"b"))
    await storage.save("flow-10", "c.txt", one_chunk(b"c"))
    assert await storage.names("flow-1") == ["a.bin", "b.txt"]
    assert await storage.names("unknown") == []
    assert await storage.delete("flow-1", "a.bin") is True
    assert await storage.delete("flow-1", "a.bin") is False
    assert not await storage.exists("flow-1", "a.bin")
    assert await storage.delete_folder("flow-1") == 1
    assert await storage.names("flow-1") == []
    assert await storage.names("flow-10") == ["c.txt"]
    assert await storage.delete_folder("flow-1") == 0


async def test_missing_files_are_not_found(storage: Storage) -> None:
    for call in (storage.open, storage.read, storage.size):
        with pytest.raises(NotFoundError) as caught:
            await call("f", "none.txt")
        assert caught.value.field == "file_name"
    assert not await storage.exists("f", "none.txt")


async def test_overwrite_and_append(storage: Storage) -> None:
    await storage.save("f", "log.txt", one_chunk(b"one"))
    await storage.save("f", "log.txt", one_chunk(b"two"))
    assert await storage.read("f", "log.txt") == b"two"
    assert await storage.save("f", "log.txt", pieces(b"+", b"three"), append=True) == 9
    assert await storage.read("f", "log.txt") == b"two+three"
    # Appending to a file that is not there starts it.
    assert await storage.save("f", "new.txt", one_chunk(b"x"), append=True) == 1


async def test_large_files_stream_both_ways(storage: Storage) -> None:
    assert await storage.save("f", "big.bin", in_chunks(LARGE)) == len(LARGE)
    assert await storage.size("f", "big.bin") == len(LARGE)
    received = bytearray()
    biggest = 0
    async for chunk in await storage.open("f", "big.bin"):
        biggest = max(biggest, len(chunk))
        received += chunk
    assert biggest <= 64 * 1024
    assert received == LARGE
    total = await storage.save("f", "big.bin", pieces(b"tail"), append=True)
    assert total == len(LARGE) + 4
    assert await storage.read("f", "big.bin") == LARGE + b"tail"


async def test_size_limit_keeps_the_old_content_and_no_partial(storage: Storage) -> None:
    await storage.save("f", "a.txt", one_chunk(b"old"))
    with pytest.raises(InvalidInputError) as caught:
        await storage.save("f", "a.txt", pieces(b"12345", b"67890"), max_bytes=8)
    assert caught.value.field == "file"
    assert await storage.read("f", "a.txt") == b"old"
    with pytest.raises(InvalidInputError):
        await storage.save("f", "a.txt", one_chunk(b"more"), max_bytes=5, append=True)
    assert await storage.read("f", "a.txt") == b"old"
    # Past the size of one S3 part too: the parts already sent are dropped.
    with pytest.raises(InvalidInputError):
        await storage.save("f", "a.txt", in_chunks(LARGE), max_bytes=len(LARGE) - 1)
    assert await storage.read("f", "a.txt") == b"old"
    assert await storage.names("f") == ["a.txt"]


async def test_a_failed_upload_leaves_nothing(storage: Storage) -> None:
    with pytest.raises(ConnectionError):
        await storage.save("f", "cut.bin", failing_after(b"half"))
    with pytest.raises(ConnectionError):
        await storage.save("f", "cut.bin", failing_after(LARGE))
    assert not await storage.exists("f", "cut.bin")
    assert await storage.names("f") == []


async def test_a_cancelled_upload_leaves_nothing(storage: Storage) -> None:
    sent = anyio.Event()

    async def stalls() -> AsyncIterator[bytes]:
        yield LARGE  # more than one S3 part: the multipart upload has begun
        sent.set()
        await anyio.sleep(30)
        yield b"never"

    async with anyio.create_task_group() as group:
        group.start_soon(storage.save, "f", "slow.bin", stalls())
        await sent.wait()
        group.cancel_scope.cancel()
    assert not await storage.exists("f", "slow.bin")
    assert await storage.names("f") == []


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "../x", "a/b", "a\\b", "/etc/passwd", "x\x00y", "tab\there", "C:x"]
)
async def test_unsafe_names_are_refused(storage: Storage, bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await storage.save("f", bad, one_chunk(b"x"))
    assert caught.value.field == "file_name"
    with pytest.raises(InvalidInputError) as caught:
        await storage.read(bad, "x.txt")
    assert caught.value.field == "folder"
    with pytest.raises(InvalidInputError):
        await storage.names(bad)
    with pytest.raises(InvalidInputError):
        await storage.delete_folder(bad)
