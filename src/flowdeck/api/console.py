"""The web console: its page at `/` and its static files under `/console/`.

The console is plain ES modules and CSS shipped inside the package (`flowdeck/console`), so
the server works offline and `make run` needs no Node.js. Files are read once, compressed
once and kept in memory: they are small and never change while the server runs.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from fastapi import Request, Response

from flowdeck.access.declare import public
from flowdeck.access.guard import guarded_router
from flowdeck.errors import NotFoundError

ROOT = Path(__file__).resolve().parent.parent / "console"
PREFIX = "/console"
# Only these kinds are served: a stray file in the package directory stays private.
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".txt": "text/plain; charset=utf-8",
}
COMPRESSIBLE = frozenset({".js", ".css", ".html", ".svg", ".txt"})

router = guarded_router(include_in_schema=False)


@dataclass(frozen=True, slots=True)
class Asset:
    body: bytes
    gzipped: bytes | None
    media_type: str
    etag: str


@lru_cache(maxsize=256)
def load(relative: str) -> Asset:
    """The file at `relative` under the console directory, or NotFoundError."""
    path = (ROOT / relative).resolve()
    if not path.is_relative_to(ROOT) or not path.is_file() or path.suffix not in TYPES:
        raise NotFoundError(f"no console file {relative}", field="path")
    body = path.read_bytes()
    packed = gzip.compress(body, 9, mtime=0) if path.suffix in COMPRESSIBLE else None
    media = TYPES.get(path.suffix) or mimetypes.guess_type(path.name)[0] or "text/plain"
    return Asset(body, packed, media, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')


def respond(request: Request, asset: Asset, cache: str) -> Response:
    headers = {"ETag": asset.etag, "Cache-Control": cache, "Vary": "Accept-Encoding"}
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if asset.gzipped is not None and "gzip" in request.headers.get("accept-encoding", ""):
        headers["Content-Encoding"] = "gzip"
        return Response(asset.gzipped, media_type=asset.media_type, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/")
@public
async def console_page(request: Request) -> Response:
    """The console's single page; it routes on the URL fragment (`/#/runs`), so no console
    path can shadow an API path."""
    return respond(request, load("index.html"), "no-cache")


@router.get(PREFIX + "/{path:path}")
@public
async def console_file(path: str, request: Request) -> Response:
    # Revalidated on every load (cheap 304s on loopback): a new release is never half-cached.
    return respond(request, load(path), "no-cache")
