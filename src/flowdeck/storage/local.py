"""Files on the local disk under one root directory (by default `<data_dir>/files`)."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import IO

from anyio import to_thread

from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.storage.base import CHUNK, safe_name


class LocalStorage:
    """`root/<folder>/<name>`; writes go to a temporary file first and replace atomically."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    async def start(self) -> None:
        """Nothing to connect to: folders are made as files arrive."""

    async def close(self) -> None:
        """Nothing held open between calls."""

    def path(self, folder: str, name: str) -> Path:
        """Where a file lives; both parts are checked so nothing escapes the root."""
        base = self.root.resolve()
        path = base / safe_name(folder, "folder") / safe_name(name, "file_name")
        # Belt and braces: the checks above already forbid separators and `..`.
        if not path.resolve().is_relative_to(base):
            raise InvalidInputError("file_name points outside the storage", field="file_name")
        return path

    async def save(
        self,
        folder: str,
        name: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        append: bool = False,
    ) -> int:
        target = self.path(folder, name)
        await to_thread.run_sync(lambda: target.parent.mkdir(parents=True, exist_ok=True))
        tmp = target.parent / f".{uuid.uuid4().hex}.part"
        out = await to_thread.run_sync(tmp.open, "wb")
        written = 0
        try:
            if append and await to_thread.run_sync(target.is_file):
                written = await to_thread.run_sync(_copy_into, target, out)
            async for chunk in chunks:
                written += len(chunk)
                if max_bytes is not None and written > max_bytes:
                    raise InvalidInputError(f"file is larger than {max_bytes} bytes", field="file")
                await to_thread.run_sync(out.write, chunk)
            await to_thread.run_sync(_finish, out)
            await to_thread.run_sync(os.replace, tmp, target)
        except BaseException:
            # Synchronous on purpose: this also runs when the upload is cancelled.
            _discard(out, tmp)
            raise
        return written

    async def open(self, folder: str, name: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        path = self.path(folder, name)
        try:
            handle = await to_thread.run_sync(path.open, "rb")
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError(f"file {name} not found", field="file_name") from exc
        return _chunks(handle, chunk_size)

    async def read(self, folder: str, name: str) -> bytes:
        path = self.path(folder, name)
        try:
            return await to_thread.run_sync(path.read_bytes)
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
            raise NotFoundError(f"file {name} not found", field="file_name") from exc

    async def size(self, folder: str, name: str) -> int:
        path = self.path(folder, name)
        try:
            return (await to_thread.run_sync(path.stat)).st_size
        except FileNotFoundError as exc:
            raise NotFoundError(f"file {name} not found", field="file_name") from exc

    async def exists(self, folder: str, name: str) -> bool:
        return await to_thread.run_sync(self.path(folder, name).is_file)

    async def delete(self, folder: str, name: str) -> bool:
        path = self.path(folder, name)
        try:
            await to_thread.run_sync(path.unlink)
        except FileNotFoundError:
            return False
        return True

    async def names(self, folder: str) -> list[str]:
        directory = self.root / safe_name(folder, "folder")
        return await to_thread.run_sync(_names, directory)

    async def folders(self) -> list[str]:
        """The folders that exist under the root, sorted."""

        def scan() -> list[str]:
            if not self.root.is_dir():
                return []
            return sorted(p.name for p in self.root.iterdir() if p.is_dir())

        return await to_thread.run_sync(scan)

    async def delete_folder(self, folder: str) -> int:
        directory = self.root / safe_name(folder, "folder")

        def remove() -> int:
            count = len(_names(directory))
            shutil.rmtree(directory, ignore_errors=True)
            return count

        return await to_thread.run_sync(remove)


def _names(directory: Path) -> list[str]:
    if not directory.is_dir():
        return []
    return sorted(p.name for p in directory.iterdir() if p.is_file() and not _partial(p.name))


def _partial(name: str) -> bool:
    """An upload still being written (`.<hex>.part`), not a file yet."""
    return name.startswith(".") and name.endswith(".part")


async def _chunks(handle: IO[bytes], chunk_size: int) -> AsyncIterator[bytes]:
    try:
        while chunk := await to_thread.run_sync(handle.read, chunk_size):
            yield chunk
    finally:
        # Synchronous on purpose: this also runs when the client goes away mid-download.
        handle.close()


def _copy_into(source: Path, out: IO[bytes]) -> int:
    with source.open("rb") as src:
        shutil.copyfileobj(src, out, CHUNK)
    return out.tell()


def _finish(out: IO[bytes]) -> None:
    out.flush()
    os.fsync(out.fileno())
    out.close()


def _discard(out: IO[bytes], tmp: Path) -> None:
    out.close()
    tmp.unlink(missing_ok=True)
