"""The S3 backend's pieces below the contract: writing one object (a PUT, or a multipart
upload past one part), reading one in chunks, and the client's errors as the contract's."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterable, Iterator
from contextlib import aclosing, contextmanager, suppress
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from flowdeck.errors import NotFoundError
from flowdeck.storage.base import StorageError

if TYPE_CHECKING:
    from aiobotocore.response import StreamingBody
    from types_aiobotocore_s3 import S3Client
    from types_aiobotocore_s3.type_defs import CompletedPartTypeDef

MISSING = frozenset({"NoSuchKey", "NotFound", "404"})


class Upload:
    """One object being written: a plain PUT when it fits in one part, else a multipart upload."""

    def __init__(self, client: S3Client, bucket: str, key: str, content_type: str) -> None:
        self.client, self.bucket, self.key, self.content_type = client, bucket, key, content_type
        self.upload_id: str | None = None
        self.parts: list[CompletedPartTypeDef] = []

    async def part(self, data: bytes) -> None:
        if self.upload_id is None:
            started = await self.client.create_multipart_upload(
                Bucket=self.bucket, Key=self.key, ContentType=self.content_type
            )
            self.upload_id = started["UploadId"]
        number = len(self.parts) + 1
        sent = await self.client.upload_part(
            Bucket=self.bucket, Key=self.key, UploadId=self.upload_id, PartNumber=number, Body=data
        )
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    async def finish(self, rest: bytes) -> None:
        if self.upload_id is None:
            await self.client.put_object(
                Bucket=self.bucket, Key=self.key, Body=rest, ContentType=self.content_type
            )
            return
        if rest:
            await self.part(rest)
        await self.client.complete_multipart_upload(
            Bucket=self.bucket,
            Key=self.key,
            UploadId=self.upload_id,
            MultipartUpload={"Parts": self.parts},
        )
        self.upload_id = None

    async def abort(self) -> None:
        if self.upload_id is None:
            return
        upload_id, self.upload_id = self.upload_id, None
        # On failure the store's lifecycle rules reap the upload; the first error is what matters.
        with suppress(ClientError, BotoCoreError):
            await self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self.key, UploadId=upload_id
            )


def code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


@contextmanager
def mapped(name: str) -> Iterator[None]:
    """The client's errors as the contract's: NotFoundError for a missing key, else OSError."""
    try:
        yield
    except ClientError as exc:
        if code(exc) in MISSING:
            raise NotFoundError(f"file {name} not found", field="file_name") from exc
        raise StorageError(f"the object store failed on {name}: {exc}") from exc
    except BotoCoreError as exc:
        raise StorageError(f"the object store failed on {name}: {exc}") from exc


async def body_chunks(body: StreamingBody, chunk_size: int) -> AsyncGenerator[bytes, None]:
    try:
        with mapped("download"):
            async for chunk in body.iter_chunks(chunk_size):
                yield chunk
    finally:
        # Synchronous on purpose: this also runs when the client goes away mid-download.
        body.close()


async def iterate(chunks: AsyncIterable[bytes]) -> AsyncGenerator[bytes, None]:
    async for chunk in chunks:
        yield chunk


async def chain(
    first: AsyncGenerator[bytes, None], then: AsyncIterable[bytes]
) -> AsyncGenerator[bytes, None]:
    async with aclosing(first):
        async for chunk in first:
            yield chunk
    async for chunk in then:
        yield chunk
