"""The storage contract for uploaded files, and the name rules every backend enforces."""

from __future__ import annotations

import mimetypes
from collections.abc import AsyncIterable, AsyncIterator
from typing import Protocol, runtime_checkable

from flowdeck.errors import InvalidInputError

CHUNK = 64 * 1024
MAX_NAME_BYTES = 255
DEFAULT_CONTENT_TYPE = "application/octet-stream"


@runtime_checkable
class Storage(Protocol):
    """Files kept in folders (a flow id or a user id); one level deep, names checked.

    Failures of the medium itself (a disk, an unreachable object store) raise OSError.
    """

    async def start(self) -> None:
        """Connect (and check the medium is usable) before the server takes requests."""
        ...

    async def close(self) -> None: ...

    async def save(
        self,
        folder: str,
        name: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        append: bool = False,
    ) -> int:
        """Write (or append to) a file atomically; returns its size in bytes."""
        ...

    async def open(self, folder: str, name: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        """The file's content in chunks; NotFoundError (before any chunk) when it is missing."""
        ...

    async def read(self, folder: str, name: str) -> bytes: ...

    async def size(self, folder: str, name: str) -> int: ...

    async def exists(self, folder: str, name: str) -> bool: ...

    async def delete(self, folder: str, name: str) -> bool:
        """Remove a file; False if it was not there."""
        ...

    async def names(self, folder: str) -> list[str]:
        """The names of the files in a folder, sorted; empty for an unknown folder."""
        ...

    async def delete_folder(self, folder: str) -> int:
        """Remove a folder and its files; returns how many files went."""
        ...


class StorageError(OSError):
    """The storage medium failed (not a missing file: that is NotFoundError)."""


def safe_name(name: str, field: str = "file_name") -> str:
    """A single path component: no separators, no `.`/`..`, no control characters."""
    if not isinstance(name, str) or not name:
        raise InvalidInputError(f"{field} must not be empty", field=field)
    if name in {".", ".."}:
        raise InvalidInputError(f"{field} must not be {name!r}", field=field)
    if "/" in name or "\\" in name:
        raise InvalidInputError(f"{field} must not contain a path separator", field=field)
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        raise InvalidInputError(f"{field} must not contain control characters", field=field)
    if len(name) > 1 and name[1] == ":" and name[0].isalpha():
        raise InvalidInputError(f"{field} must not start with a drive letter", field=field)
    if len(name.encode()) > MAX_NAME_BYTES:
        raise InvalidInputError(f"{field} is longer than {MAX_NAME_BYTES} bytes", field=field)
    return name


def content_type_of(name: str) -> str:
    """The MIME type a file name suggests, or application/octet-stream."""
    guessed, _ = mimetypes.guess_type(name, strict=False)
    return guessed or DEFAULT_CONTENT_TYPE


async def one_chunk(data: bytes) -> AsyncIterator[bytes]:
    """Bytes already in memory, as the chunk stream `Storage.save` takes."""
    yield data
