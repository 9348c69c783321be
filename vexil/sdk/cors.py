"""CORS for the SDK endpoints: any origin, the headers the SDKs send (protocol notes §1.3).

Separate from the management API's policy (django-cors-headers, DJANGO_CORS_ALLOWED_ORIGINS):
environment client keys are public and browsers call these paths from any site.
"""

from __future__ import annotations

from vexil.sdk.http import Request, Response

ALLOWED_HEADERS = ", ".join(
    [
        "accept",
        "accept-encoding",
        "authorization",
        "content-type",
        "dnt",
        "origin",
        "user-agent",
        "x-csrftoken",
        "x-requested-with",
        "x-environment-key",
        "x-api-key",
        "flagsmith-application-name",
        "flagsmith-application-version",
        "flagsmith-sdk-user-agent",
        "if-modified-since",
        "if-none-match",
    ]
)
EXPOSED_HEADERS = "Retry-After, X-Flagsmith-Document-Updated-At, ETag, Last-Modified"
PREFLIGHT_MAX_AGE = "86400"


def response_headers(request: Request) -> list[tuple[bytes, bytes]]:
    origin = request.header("origin")
    if not origin:
        return []
    return [
        (b"access-control-allow-origin", b"*"),
        (b"access-control-expose-headers", EXPOSED_HEADERS.encode()),
    ]


def preflight(request: Request, methods: str) -> Response:
    # Access-Control-Allow-Origin comes from response_headers(), like on every SDK response: a
    # second copy here reached the browser as "*, *", and browsers refuse the preflight then.
    response = Response(200, b"", content_type=None)
    response.header("access-control-allow-methods", methods)
    response.header("access-control-allow-headers", ALLOWED_HEADERS)
    response.header("access-control-max-age", PREFLIGHT_MAX_AGE)
    return response
