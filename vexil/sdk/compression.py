"""gzip for the SDK endpoints, with ``ENABLE_GZIP_COMPRESSION`` (they bypass Django's
GZipMiddleware, which does it for every other path).

Bodies that are the same for every caller (``/flags/``, the environment document) are compressed
once per snapshot at a high level; per-caller bodies (identities) per response at a fast one.
As Django does: only bodies of 200 bytes or more, ``Vary: Accept-Encoding``, and a strong ETag
turned weak, since the compressed bytes differ from the ones it names.
"""

from __future__ import annotations

import zlib

from vexil.sdk.http import Request, Response

MIN_BYTES = 200
SHARED_LEVEL = 9  # once per snapshot
PER_RESPONSE_LEVEL = 1  # per request: speed over ratio


def accepts_gzip(request: Request) -> bool:
    """Whether ``Accept-Encoding`` names gzip (or ``*``) with a non-zero quality."""
    for part in request.header("accept-encoding").lower().split(","):
        coding, _, parameters = part.partition(";")
        if coding.strip() not in ("gzip", "*"):
            continue
        quality = parameters.strip()
        if quality.startswith("q="):
            try:
                return float(quality[2:]) > 0
            except ValueError:
                return False
        return True
    return False


def gzip_bytes(body: bytes, level: int) -> bytes:
    """A gzip member with no file name and mtime 0, so equal bodies compress to equal bytes."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return compressor.compress(body) + compressor.flush()


def compress(response: Response, request: Request) -> Response:
    """``response`` gzipped for ``request`` when that is worth it and accepted."""
    if response.content_encoding is not None or len(response.body) < MIN_BYTES:
        return response
    response.header("vary", "Accept-Encoding")
    if not accepts_gzip(request):
        return response
    if response.gzipped is not None:
        response.body = response.gzipped()
    else:
        response.body = gzip_bytes(response.body, PER_RESPONSE_LEVEL)
    response.content_encoding = "gzip"
    response.headers = [
        (name, b"W/" + value if name == b"etag" and not value.startswith(b"W/") else value)
        for name, value in response.headers
    ]
    return response
