"""Celery tasks of webhook delivery (used when ``CELERY_BROKER_URL`` is set).

The broker holds a delivery between attempts: a retry is the same task sent again with a
countdown. Without a broker, :mod:`vexil.webhooks.worker` delivers from the outbox table.
"""

from __future__ import annotations

import uuid

from vexil.celery import app
from vexil.webhooks import delivery


@app.task(name="vexil.webhooks.delivery_attempt")
def webhook_delivery_attempt(delivery_id: str) -> None:
    pk = uuid.UUID(delivery_id)
    # None from attempt() may also mean "leased by an attempt that died": come back when the
    # lease runs out, so a delivery is never left pending with no task to run it.
    retry_in = delivery.attempt(pk)
    if retry_in is None:
        retry_in = delivery.claimable_in(pk)
    if retry_in is not None:
        webhook_delivery_attempt.apply_async(args=[delivery_id], countdown=retry_in)
    delivery.purge_if_due()
