"""The ASGI application that ``vexil serve`` runs under granian.

Django's request cycle runs as WSGI inside a thread pool (a2wsgi): measured here, that serves a
Django view about three times faster than Django's own ASGI handler (docs/performance.md). The
ASGI interface stays on the outside so that long-lived streams can be served by async code
without holding a thread each.
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

from vexil.wsgi import application as django_application

Message = MutableMapping[str, Any]
ASGIApp = Callable[
    [Any, Callable[[], Awaitable[Message]], Callable[[Message], Awaitable[None]]], Awaitable[None]
]


def coroutine_receive(app: ASGIApp) -> ASGIApp:
    """Hand ``app`` a ``receive`` that returns a real coroutine.

    a2wsgi reads request bodies from its worker threads with ``run_coroutine_threadsafe``, which
    accepts only coroutine objects; granian's ``receive()`` returns a native awaitable, so every
    request with a body failed with "A coroutine object is required".
    """

    async def wrapped(scope: Any, receive: Callable[[], Awaitable[Message]], send: Any) -> None:
        async def receive_coroutine() -> Message:
            return await receive()

        await app(scope, receive_coroutine, send)

    return wrapped


application = coroutine_receive(WSGIMiddleware(django_application, workers=16))  # type: ignore[arg-type]
