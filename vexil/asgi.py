"""The ASGI application that ``vexil serve`` runs under granian.

SDK paths are answered by the lean handler in ``vexil.sdk`` from in-memory snapshots; everything
else reaches Django, whose request cycle runs as WSGI inside a thread pool (a2wsgi). The ASGI
interface stays on the outside so that long-lived streams can be served by async code without
holding a thread each (docs/performance.md, "Server choice").
"""

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from a2wsgi import WSGIMiddleware

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")

from django.conf import settings

from vexil.common.logging import asgi_secrets_scope
from vexil.sdk import analytics
from vexil.sdk.app import create_application
from vexil.wsgi import application as django_application

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
ASGIApp = Callable[[Any, Receive, Callable[[Message], Awaitable[None]]], Awaitable[None]]


def coroutine_receive(app: ASGIApp) -> ASGIApp:
    """Hand ``app`` a ``receive`` that returns a real coroutine.

    a2wsgi reads request bodies from its worker threads with ``run_coroutine_threadsafe``, which
    accepts only coroutine objects; granian's ``receive()`` returns a native awaitable, so every
    request with a body failed with "A coroutine object is required".
    """

    async def wrapped(scope: Any, receive: Receive, send: Any) -> None:
        async def receive_coroutine() -> Message:
            return await receive()

        await app(scope, receive_coroutine, send)

    return wrapped


analytics.configure(settings.VEXIL_ANALYTICS_FLUSH_SECONDS)
application = asgi_secrets_scope(
    create_application(
        coroutine_receive(WSGIMiddleware(django_application, workers=16)),  # type: ignore[arg-type]
        interval=settings.VEXIL_SDK_REFRESH_SECONDS,
        threads=settings.VEXIL_SDK_THREADS,
        identity_cache_bytes=settings.VEXIL_SDK_IDENTITY_CACHE_MB * 1024 * 1024,
        prepared_statements=settings.VEXIL_SDK_PREPARED_STATEMENTS,
        gzip=settings.ENABLE_GZIP_COMPRESSION,
        max_streams=settings.VEXIL_STREAMS_MAX,
        heartbeat_seconds=settings.VEXIL_STREAMS_HEARTBEAT_SECONDS,
        redis_url=settings.REDIS_URL,
        ofrep_rate=settings.VEXIL_OFREP_RATE_LIMIT,
    )
)

# Imported once Django is set up (vexil.wsgi above): the deliverer reads the outbox table.
from vexil.webhooks import worker as webhook_worker  # noqa: E402

if not settings.CELERY_BROKER_URL and settings.VEXIL_WEBHOOK_IN_PROCESS_WORKER:
    webhook_worker.start()  # resume deliveries left pending by a previous process

# Re-deliver e-mails a crash left queued or half-sent (vexil.common.mail), now and periodically.
from vexil.common.mail import email_outbox_sweeper_start  # noqa: E402

email_outbox_sweeper_start()
