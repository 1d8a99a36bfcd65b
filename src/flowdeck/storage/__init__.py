"""Where uploaded files live: a small storage contract and its local-disk implementation."""

from flowdeck.storage.base import (
    CHUNK,
    DEFAULT_CONTENT_TYPE,
    Storage,
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
    "content_type_of",
    "one_chunk",
    "safe_name",
]
