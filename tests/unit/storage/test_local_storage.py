"""LocalStorage on a real temporary directory: round trips, limits, atomic writes, safe names."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.storage import LocalStorage, Storage, content_type_of, one_chunk, safe_name


async def pieces(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


async def failing_after(first: bytes) -> AsyncIterator[bytes]:
    yield first
    raise ConnectionError("client went away")


@pytest.fixture
def storage(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


def test_is_a_storage(storage: LocalStorage) -> None:
    assert isinstance(storage, Storage)


async def test_round_trip_list_size_delete(storage: LocalStorage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    assert await storage.save("flow-1", "a.bin", pieces(data[:1000], data[1000:])) == len(data)
    assert (tmp_path / "files" / "flow-1" / "a.bin").read_bytes() == data
    assert await storage.read("flow-1", "a.bin") == data
    assert await storage.size("flow-1", "a.bin") == len(data)
    assert await storage.exists("flow-1", "a.bin")
    chunks = [c async for c in await storage.open("flow-1", "a.bin", chunk_size=4096)]
    assert len(chunks) == -(-len(data) // 4096)
    assert b"".join(chunks) == data
    await storage.save("flow-1", "b.txt", one_chunk(b"b"))
    assert await storage.names("flow-1") == ["a.bin", "b.txt"]
    assert await storage.names("unknown") == []
    assert await storage.delete("flow-1", "a.bin") is True
    assert await storage.delete("flow-1", "a.bin") is False
    assert not await storage.exists("flow-1", "a.bin")
    assert await storage.delete_folder("flow-1") == 1
    assert not (tmp_path / "files" / "flow-1").exists()


async def test_missing_files_are_not_found(storage: LocalStorage) -> None:
    with pytest.raises(NotFoundError):
        await storage.open("f", "none.txt")
    with pytest.raises(NotFoundError):
        await storage.read("f", "none.txt")
    with pytest.raises(NotFoundError):
        await storage.size("f", "none.txt")


async def test_overwrite_and_append(storage: LocalStorage) -> None:
    await storage.save("f", "log.txt", one_chunk(b"one"))
    await storage.save("f", "log.txt", one_chunk(b"two"))
    assert await storage.read("f", "log.txt") == b"two"
    assert await storage.save("f", "log.txt", pieces(b"+", b"three"), append=True) == 9
    assert await storage.read("f", "log.txt") == b"two+three"
    # Appending to a file that is not there starts it.
    assert await storage.save("f", "new.txt", one_chunk(b"x"), append=True) == 1


async def test_size_limit_keeps_the_old_content_and_no_partial(
    storage: LocalStorage, tmp_path: Path
) -> None:
    await storage.save("f", "a.txt", one_chunk(b"old"))
    with pytest.raises(InvalidInputError) as caught:
        await storage.save("f", "a.txt", pieces(b"12345", b"67890"), max_bytes=8)
    assert caught.value.field == "file"
    assert await storage.read("f", "a.txt") == b"old"
    with pytest.raises(InvalidInputError):
        await storage.save("f", "a.txt", one_chunk(b"more"), max_bytes=5, append=True)
    assert await storage.read("f", "a.txt") == b"old"
    assert sorted(p.name for p in (tmp_path / "files" / "f").iterdir()) == ["a.txt"]


async def test_a_failed_upload_leaves_nothing(storage: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(ConnectionError):
        await storage.save("f", "cut.bin", failing_after(b"half"))
    assert not await storage.exists("f", "cut.bin")
    assert list((tmp_path / "files" / "f").iterdir()) == []


async def test_partial_uploads_are_not_listed(storage: LocalStorage, tmp_path: Path) -> None:
    await storage.save("f", "done.txt", one_chunk(b"x"))
    (tmp_path / "files" / "f" / ".0123abcd.part").write_bytes(b"in flight")
    assert await storage.names("f") == ["done.txt"]


@pytest.mark.parametrize(
    "bad", ["", ".", "..", "../x", "a/b", "a\\b", "/etc/passwd", "x\x00y", "tab\there", "C:x"]
)
async def test_unsafe_names_are_refused(storage: LocalStorage, tmp_path: Path, bad: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        await storage.save("f", bad, one_chunk(b"x"))
    assert caught.value.field == "file_name"
    with pytest.raises(InvalidInputError) as caught:
        await storage.read(bad, "x.txt")
    assert caught.value.field == "folder"
    with pytest.raises(InvalidInputError):
        await storage.names(bad)
    assert not (tmp_path / "x").exists()


def test_safe_name_rules() -> None:
    assert safe_name("Résumé (1).pdf") == "Résumé (1).pdf"
    assert safe_name("..hidden") == "..hidden"
    assert safe_name("a" * 255) == "a" * 255
    with pytest.raises(InvalidInputError) as caught:
        safe_name("é" * 128, "name")
    assert caught.value.field == "name"
    assert "255" in caught.value.message


def test_content_type_of() -> None:
    assert content_type_of("a.png") == "image/png"
    assert content_type_of("a.JSON") == "application/json"
    assert content_type_of("notes.txt") == "text/plain"
    assert content_type_of("noext") == "application/octet-stream"
