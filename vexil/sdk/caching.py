"""What every SDK response says to caches (issue 10, item 12).

Flags, identities and the writes are answers for one key (and, for identities, one user): no
cache may store them, in Flagsmith's words. The environment document may be kept but is
revalidated every time with its ETag (``no-cache``, set by its endpoint). ``Vary`` names the key
header and ``Origin`` on every answer, so no cache hands one key's answer to another.
"""

from __future__ import annotations

from vexil.sdk.http import Response

NO_STORE = b"max-age=0, no-cache, no-store, must-revalidate, private"  # Flagsmith's, exactly
VARY = (b"X-Environment-Key", b"Origin")


def cache_headers(response: Response) -> Response:
    """``response`` with ``Cache-Control`` (unless its endpoint chose one) and a single ``Vary``
    that also holds whatever the response already varied on."""
    varies = list(VARY)
    kept = []
    has_cache_control = False
    for name, value in response.headers:
        if name == b"vary":
            varies.extend(v.strip() for v in value.split(b",") if v.strip() not in varies)
        else:
            has_cache_control = has_cache_control or name == b"cache-control"
            kept.append((name, value))
    if not has_cache_control:
        kept.append((b"cache-control", NO_STORE))
    kept.append((b"vary", b", ".join(varies)))
    response.headers = kept
    return response
