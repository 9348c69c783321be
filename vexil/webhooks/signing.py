"""Request headers of a webhook delivery, and how receivers check them (docs/webhooks.md).

``X-Flagsmith-Signature`` is Flagsmith's: hex HMAC-SHA256 of the raw body, keyed by the secret,
so ``flagsmith.webhooks.verify_signature`` accepts it. It signs the body only, so a captured
request can be replayed as is; ``X-Vexil-Signature`` also signs the attempt's timestamp and the
event id, letting a receiver reject stale requests and de-duplicate retries of the same event.
"""

from __future__ import annotations

import hashlib
import hmac

CONTENT_TYPE = "application/json"
FLAGSMITH_SIGNATURE = "X-Flagsmith-Signature"
VEXIL_SIGNATURE = "X-Vexil-Signature"
EVENT_ID = "X-Vexil-Event-Id"
EVENT_TYPE = "X-Vexil-Event-Type"
TIMESTAMP = "X-Vexil-Timestamp"
ATTEMPT = "X-Vexil-Delivery-Attempt"


def flagsmith_signature(body: bytes, secret: str) -> str:
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def vexil_signature(body: bytes, secret: str, *, event_id: str, timestamp: int) -> str:
    """``v1=`` hex HMAC-SHA256 of ``"<timestamp>.<event id>."`` followed by the raw body."""
    message = f"{timestamp}.{event_id}.".encode() + body
    return "v1=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def delivery_headers(
    body: bytes, secret: str, *, event_id: str, event_type: str, timestamp: int, attempt: int
) -> dict[str, str]:
    headers = {
        "Content-Type": CONTENT_TYPE,
        EVENT_ID: event_id,
        EVENT_TYPE: event_type,
        TIMESTAMP: str(timestamp),
        ATTEMPT: str(attempt),
    }
    if secret:
        headers[FLAGSMITH_SIGNATURE] = flagsmith_signature(body, secret)
        headers[VEXIL_SIGNATURE] = vexil_signature(
            body, secret, event_id=event_id, timestamp=timestamp
        )
    return headers
