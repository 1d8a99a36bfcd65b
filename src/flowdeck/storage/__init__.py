"""Where uploaded files live: a small storage contract; local disk here, S3 in `storage.s3`."""

from flowdeck.storage.base import (
    CHUNK,
    DEFAULT_CONTENT_TYPE,
    Storage,
    StorageError,
    content_type_of,
    one_chunk,
    safe_name,
)
from flowdeck.storage.local import LocalStorage

__all__ = [
    "CHUNK",
    "DEFAULT_CONTENT_TYPE",
    "LocalStorage",
    "Storage",
    "StorageError",
    "content_type_of",
    "one_chunk",
    "safe_name",
]
