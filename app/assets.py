"""Light on the network: compressed answers, and static files cached for a year by content hash.

Every `url_for("static", ...)` carries `?v=<hash of the file>`; a request with the file's
current hash is answered `immutable` for a year, one without it (or with an old hash) is
revalidated as before. HTML, CSS, JS, JSON and SVG go out brotli- or gzip-compressed as the
client asks; images and spreadsheets are compressed already and go as they are.
"""

import hashlib
from pathlib import Path

from flask import Flask, Response, current_app, request
from flask_compress import Compress

YEAR = 365 * 24 * 3600
IMMUTABLE = f"public, max-age={YEAR}, immutable"
# what gains from compression; png, xlsx and the like are compressed already
COMPRESSED_TYPES = [
    "text/html",
    "text/css",
    "text/javascript",
    "application/javascript",
    "application/json",
    "application/manifest+json",
    "image/svg+xml",
]

compress = Compress()


def file_hash(static_folder: str, filename: str) -> str | None:
    """A short hash of a static file's content, read once per file per process."""
    hashes = current_app.extensions["clover_static_hashes"]
    key = (static_folder, filename)
    if key not in hashes:
        path = Path(static_folder) / filename
        try:
            hashes[key] = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
        except (OSError, ValueError):
            # no such file: url_for still builds its URL, the server answers 404
            return None
    return hashes[key]


def _hash_static_urls(endpoint: str, values: dict) -> None:
    if endpoint != "static" or "v" in values or "filename" not in values:
        return
    version = file_hash(current_app.static_folder, values["filename"])
    if version:
        values["v"] = version


def _cache_hashed_static(response: Response) -> Response:
    """A static file asked for by its current hash never changes: keep it for a year."""
    if request.endpoint != "static" or response.status_code not in (200, 304):
        return response
    filename = (request.view_args or {}).get("filename")
    asked = request.args.get("v")
    if filename and asked and asked == file_hash(current_app.static_folder, filename):
        response.headers["Cache-Control"] = IMMUTABLE
    return response


def init_app(app: Flask) -> None:
    app.config.setdefault("COMPRESS_MIMETYPES", COMPRESSED_TYPES)
    # brotli for browsers that take it, gzip for the rest; static files stream through too
    app.config.setdefault("COMPRESS_ALGORITHM", ["br", "gzip"])
    app.config.setdefault("COMPRESS_ALGORITHM_STREAMING", ["br", "gzip"])
    # brotli at 5 compresses a page about as well as gzip at 9, in a fraction of the time
    app.config.setdefault("COMPRESS_BR_LEVEL", 5)
    app.extensions["clover_static_hashes"] = {}
    app.url_defaults(_hash_static_urls)
    # registered before the compressor, so it runs after it and sees the final status
    app.after_request(_cache_hashed_static)
    compress.init_app(app)
