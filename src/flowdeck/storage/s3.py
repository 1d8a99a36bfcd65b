"""Files in an S3-compatible object store (AWS S3, MinIO, ...): `<prefix><folder>/<name>`.

Every API process of a deployment sees the same files, so any of them can serve a download.
Objects only appear once complete (a single PUT, or a multipart upload that is completed), so
a failed or oversized upload leaves the previous content, and no partial object, behind.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator
from contextlib import AsyncExitStack, aclosing, suppress
from functools import cache
from typing import TYPE_CHECKING, cast

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from anyio import CancelScope
from botocore.exceptions import BotoCoreError, ClientError

from flowdeck.errors import InvalidInputError, NotFoundError
from flowdeck.storage.base import CHUNK, StorageError, content_type_of, safe_name
from flowdeck.storage.s3_io import Upload, body_chunks, chain, code, iterate, mapped

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from aiobotocore.session import AioSession
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.literals import BucketLocationConstraintType
    from types_aiobotocore_s3.type_defs import ObjectIdentifierTypeDef

# S3 wants every part of a multipart upload but the last to be at least 5 MiB.
MIN_PART = 5 * 1024 * 1024
NO_BUCKET = frozenset({"NoSuchBucket", "NotFound", "404"})


class S3Storage:
    """The Storage contract over one bucket; `start` connects and creates the bucket if missing."""

    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        access_key_id: str | None = None,
        secret_access_key: str | None = None,
        part_size: int = 8 * 1024 * 1024,
        attempts: int = 3,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.endpoint_url = endpoint_url or None
        self.region = region
        # Empty keys fall back to botocore's usual chain (AWS_* variables, instance roles).
        self._key_id = access_key_id or None
        self._secret = secret_access_key or None
        self.part_size = max(part_size, MIN_PART)
        self.attempts = attempts
        # Keys per listing page and per DeleteObjects call (1000 is the most S3 takes).
        self.batch = 1000
        self._stack: AsyncExitStack | None = None
        self._client: S3Client | None = None

    async def start(self) -> None:
        if self._client is not None:
            return
        config = AioConfig(
            # Path-style URLs: MinIO and most self-hosted stores have no per-bucket DNS names.
            s3={"addressing_style": "path"},
            retries={"max_attempts": self.attempts, "mode": "standard"},
            max_pool_connections=64,
        )
        stack = AsyncExitStack()
        client = await stack.enter_async_context(
            _session().create_client(
                "s3",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=config,
                aws_access_key_id=self._key_id,
                aws_secret_access_key=self._secret,
            )
        )
        try:
            await self._ensure_bucket(client)
        except BaseException:
            await stack.aclose()
            raise
        self._stack, self._client = stack, client

    async def close(self) -> None:
        stack, self._stack, self._client = self._stack, None, None
        if stack is not None:
            await stack.aclose()

    @property
    def client(self) -> S3Client:
        if self._client is None:
            raise RuntimeError("S3Storage.start() has not been called")
        return self._client

    def key(self, folder: str, name: str) -> str:
        return f"{self._folder(folder)}{safe_name(name, 'file_name')}"

    async def save(
        self,
        folder: str,
        name: str,
        chunks: AsyncIterable[bytes],
        *,
        max_bytes: int | None = None,
        append: bool = False,
    ) -> int:
        key = self.key(folder, name)
        old = None
        if append:
            with suppress(NotFoundError):
                old = await self._body(key, name)
        # S3 has no append: the new object is the old bytes followed by the new ones.
        source = iterate(chunks) if old is None else chain(body_chunks(old, CHUNK), chunks)
        upload = Upload(self.client, self.bucket, key, content_type_of(name))
        written = 0
        buffer = bytearray()
        try:
            async with aclosing(source) as pieces:
                async for chunk in pieces:
                    written += len(chunk)
                    if max_bytes is not None and written > max_bytes:
                        raise InvalidInputError(
                            f"file is larger than {max_bytes} bytes", field="file"
                        )
                    buffer += chunk
                    if len(buffer) >= self.part_size:
                        with mapped(name):
                            await upload.part(bytes(buffer))
                        buffer.clear()
            with mapped(name):
                await upload.finish(bytes(buffer))
        except BaseException:
            # Shielded: this also runs when the upload is cancelled.
            with CancelScope(shield=True):
                await upload.abort()
            raise
        return written

    async def open(self, folder: str, name: str, chunk_size: int = CHUNK) -> AsyncIterator[bytes]:
        body = await self._body(self.key(folder, name), name)
        return body_chunks(body, chunk_size)

    async def read(self, folder: str, name: str) -> bytes:
        body = await self._body(self.key(folder, name), name)
        try:
            with mapped(name):
                return await body.read()
        finally:
            body.close()

    async def size(self, folder: str, name: str) -> int:
        with mapped(name):
            head = await self.client.head_object(Bucket=self.bucket, Key=self.key(folder, name))
        return head["ContentLength"]

    async def exists(self, folder: str, name: str) -> bool:
        try:
            await self.size(folder, name)
        except NotFoundError:
            return False
        return True

    async def delete(self, folder: str, name: str) -> bool:
        # S3 deletes a missing key without complaint; the contract wants to know.
        if not await self.exists(folder, name):
            return False
        with mapped(name):
            await self.client.delete_object(Bucket=self.bucket, Key=self.key(folder, name))
        return True

    async def names(self, folder: str) -> list[str]:
        return sorted(key.rsplit("/", 1)[-1] for key in await self._keys(folder))

    async def delete_folder(self, folder: str) -> int:
        keys = await self._keys(folder)
        for start in range(0, len(keys), self.batch):
            batch: list[ObjectIdentifierTypeDef] = [
                {"Key": k} for k in keys[start : start + self.batch]
            ]
            with mapped(folder):
                answer = await self.client.delete_objects(
                    Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True}
                )
            if errors := answer.get("Errors"):
                raise StorageError(f"could not delete {len(errors)} file(s) of {folder}")
        return len(keys)

    def _folder(self, folder: str) -> str:
        return f"{self.prefix}{safe_name(folder, 'folder')}/"

    async def _keys(self, folder: str) -> list[str]:
        prefix = self._folder(folder)
        pages = self.client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket,
            Prefix=prefix,
            Delimiter="/",
            PaginationConfig={"PageSize": self.batch},
        )
        keys: list[str] = []
        with mapped(folder):
            async for page in pages:
                keys.extend(item["Key"] for item in page.get("Contents", []) if "Key" in item)
        return keys

    async def _body(self, key: str, name: str) -> StreamingBody:
        with mapped(name):
            answer = await self.client.get_object(Bucket=self.bucket, Key=key)
        return answer["Body"]

    async def _ensure_bucket(self, client: S3Client) -> None:
        where = f"bucket {self.bucket!r} at {self.endpoint_url or 'AWS S3'}"
        try:
            try:
                await client.head_bucket(Bucket=self.bucket)
                return
            except ClientError as exc:
                if code(exc) not in NO_BUCKET:
                    raise
            if self.region == "us-east-1":
                await client.create_bucket(Bucket=self.bucket)
            else:
                await client.create_bucket(
                    Bucket=self.bucket,
                    CreateBucketConfiguration={
                        "LocationConstraint": cast("BucketLocationConstraintType", self.region)
                    },
                )
        except client.exceptions.BucketAlreadyOwnedByYou:
            return  # another API process starting at the same moment created it
        except (ClientError, BotoCoreError) as exc:
            raise StorageError(
                f"the object store is not usable ({where}): {exc}; check FLOWDECK_S3_BUCKET, "
                "FLOWDECK_S3_ENDPOINT_URL, FLOWDECK_S3_REGION and FLOWDECK_S3_ACCESS_KEY_ID"
            ) from exc


@cache
def _session() -> AioSession:
    """One per process: it caches the service models every new client would load again."""
    return get_session()
