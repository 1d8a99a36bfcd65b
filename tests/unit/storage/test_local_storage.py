"""LocalStorage specifics on a real temporary directory: where bytes land, atomic writes, names.

The behaviour every backend shares is in test_storage_contract.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from flowdeck.errors import InvalidInputError
from flowdeck.storage import LocalStorage, content_type_of, one_chunk, safe_name
from tests.unit.storage.test_storage_contract import failing_after, pieces


@pytest.fixture
def local(tmp_path: Path) -> LocalStorage:
    return LocalStorage(tmp_path / "files")


async def test_files_live_under_the_root(local: LocalStorage, tmp_path: Path) -> None:
    data = bytes(range(256)) * 1000
    await local.save("flow-1", "a.bin", pieces(data[:1000], data[1000:]))
    assert (tmp_path / "files" / "flow-1" / "a.bin").read_bytes() == data
    chunks = [c async for c in await local.open("flow-1", "a.bin", chunk_size=4096)]
    assert len(chunks) == -(-len(data) // 4096)
    assert await local.folders() == ["flow-1"]
    assert await local.delete_folder("flow-1") == 1
    assert not (tmp_path / "files" / "flow-1").exists()


async def test_no_temporary_file_is_left(local: LocalStorage, tmp_path: Path) -> None:
    await local.save("f", "a.txt", one_chunk(b"old"))
    with pytest.raises(InvalidInputError):
        await local.save("f", "a.txt", pieces(b"12345", b"67890"), max_bytes=8)
    with pytest.raises(ConnectionError):
        await local.save("f", "cut.bin", failing_after(b"half"))
    assert sorted(p.name for p in (tmp_path / "files" / "f").iterdir()) == ["a.txt"]


async def test_partial_uploads_are_not_listed(local: LocalStorage, tmp_path: Path) -> None:
    await local.save("f", "done.txt", one_chunk(b"x"))
    (tmp_path / "files" / "f" / ".0123abcd.part").write_bytes(b"in flight")
    assert await local.names("f") == ["done.txt"]


async def test_unsafe_names_touch_nothing(local: LocalStorage, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError):
        await local.save("f", "../x", one_chunk(b"x"))
    with pytest.raises(InvalidInputError):
        await local.save("..", "x", one_chunk(b"x"))
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "files").exists()


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
