"""OFREP's change channel (ADR-0008): ``GET /ofrep/v1/events/{client key}``, server-sent events
that tell a static-context provider (``@openfeature/ofrep-web-provider``) to fetch its flags
again. The bulk answer advertises it in ``eventStreams`` (vexil.sdk.ofrep)::

    event: message
    data: {"type": "refetchEvaluation", "lastModified": 1771622898}

Written by the same change hub as Flagsmith's stream (vexil.sdk.changes): one event per change
of the environment (rendered once for all the channel's streams), no event on connect (a
provider refetches unconditionally after every (re)connect) but a ``: keep-alive`` comment, and
one every ``heartbeat`` seconds. The key in the path is
the environment's client-side key (public, as in Flagsmith's stream): an EventSource cannot send
headers, and a server key never goes in a URL.
"""

from __future__ import annotations

import itertools
import math

import orjson

from vexil.sdk import stream
from vexil.sdk.changes import KEEP_ALIVE
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Receive, Scope, Send

PREFIX = "/ofrep/v1/events/"
INACTIVITY_DELAY_SECONDS = 120  # what providers wait, tab hidden, before closing the stream
_ids = itertools.count(1)


def events_key(path: str) -> str | None:
    """The client key of an events path, or None if ``path`` is not one."""
    if not path.startswith(PREFIX):
        return None
    key = path[len(PREFIX) :]
    return key if key and "/" not in key else None


def event_streams(client_key: str) -> list[dict[str, object]]:
    """The bulk answer's ``eventStreams``: this server's channel, relative to the provider's
    base URL (its origin), so it works behind any load balancer or proxy name."""
    return [
        {
            "type": "sse",
            "endpoint": {"requestUri": PREFIX + client_key},
            "inactivityDelaySec": INACTIVITY_DELAY_SECONDS,
        }
    ]


def event(updated_at: float) -> bytes:
    """One change's message (the hub renders it once for all the channel's open streams)."""
    data = orjson.dumps({"type": "refetchEvaluation", "lastModified": math.floor(updated_at)})
    return b"id: %d\nevent: message\ndata: %s\n\n" % (next(_ids), data)


async def serve(
    context: SDKContext, key: str, scope: Scope, receive: Receive, send: Send, *, heartbeat: float
) -> None:
    # Nothing to refetch on connect (the provider has just fetched): a comment, so the
    # response's head and first chunk reach the client at once.
    await stream.serve_events(
        context, key, scope, receive, send,
        heartbeat=heartbeat, render=event, first=KEEP_ALIVE, what="OFREP events",
    )  # fmt: skip
