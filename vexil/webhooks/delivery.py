"""Delivering outbox rows: claim, send, record the attempt, schedule a retry or give up.

Retry policy: network errors, 5xx and 429 are retried after ``VEXIL_WEBHOOK_RETRY_DELAYS[n]``
seconds (scaled by a random factor in [0.5, 1] so receivers coming back up are not hit by every
sender at once), or after ``Retry-After`` when the receiver asks for longer; other statuses
(redirects included, which are never followed) and refused destinations fail at once. A
delivery that fails counts against its webhook; after
``VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES`` failed deliveries in a row the webhook is disabled and the
organisation's ``webhook_notification_email`` is told.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from vexil.common import outbound
from vexil.common.mail import email_queue, public_base_url
from vexil.webhooks import formats
from vexil.webhooks.models import (
    RESPONSE_LOG_CHARS,
    AttemptOutcome,
    DeliveryStatus,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

logger = logging.getLogger(__name__)

LEASE_MARGIN_SECONDS = 60
FAILURE_SUBJECT = "Vexil webhook disabled"


@dataclass(frozen=True)
class Result:
    status_code: int | None
    latency_ms: int
    error: str
    response_body: str
    retryable: bool
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


# --- Choosing and claiming work --------------------------------------------------------------
def _due(now: datetime) -> Q:
    return Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now) & (
        Q(locked_until__isnull=True) | Q(locked_until__lt=now)
    )


def due_delivery_ids(limit: int = 50) -> list[uuid.UUID]:
    return list(
        WebhookDelivery.objects.filter(_due(timezone.now()))
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def overdue_delivery_ids(*, by_seconds: float, limit: int = 500) -> list[uuid.UUID]:
    """Pending deliveries due more than ``by_seconds`` ago and not leased: their task was lost."""
    return list(
        WebhookDelivery.objects.filter(
            _due(timezone.now()), next_attempt_at__lt=timezone.now() - timedelta(seconds=by_seconds)
        )
        .order_by("next_attempt_at")
        .values_list("id", flat=True)[:limit]
    )


def seconds_until_next_due() -> float | None:
    """How long until a pending delivery is due (its lease counts), or None if none is pending."""
    row = (
        WebhookDelivery.objects.filter(status=DeliveryStatus.PENDING)
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", "locked_until")
        .first()
    )
    if row is None:
        return None
    due = max(row[0], row[1]) if row[1] is not None else row[0]
    return max(0.0, (due - timezone.now()).total_seconds())


def claimable_in(delivery_id: uuid.UUID) -> float | None:
    """Seconds until a pending delivery may be claimed (due and its lease expired), else None."""
    row = (
        WebhookDelivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING)
        .values_list("next_attempt_at", "locked_until")
        .first()
    )
    if row is None:
        return None
    due = max(row[0], row[1]) if row[1] is not None else row[0]
    return max(0.0, (due - timezone.now()).total_seconds())


def _claim(delivery_id: uuid.UUID) -> WebhookDelivery | None:
    """Take a lease on a due delivery; None when it is not due or another worker holds it."""
    now = timezone.now()
    lease = now + timedelta(seconds=settings.VEXIL_WEBHOOK_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS)
    claimed = WebhookDelivery.objects.filter(_due(now), pk=delivery_id).update(locked_until=lease)
    if not claimed:
        return None
    return WebhookDelivery.objects.select_related(
        "webhook__organisation", "webhook__environment__project"
    ).get(pk=delivery_id)


def run_due(limit: int = 50) -> int:
    """Attempt every delivery that is due now (up to ``limit``); return how many were due."""
    due = due_delivery_ids(limit)
    for delivery_id in due:
        attempt(delivery_id)
    return len(due)


# --- One attempt ----------------------------------------------------------------------------
def attempt(delivery_id: uuid.UUID) -> float | None:
    """Try a delivery once if it is due and unclaimed.

    Returns the seconds until its retry when one is scheduled, else None.
    """
    delivery = _claim(delivery_id)
    if delivery is None:
        return None
    webhook = delivery.webhook
    if not webhook.enabled:
        _cancel(delivery, "The webhook is disabled.")
        return None
    number = delivery.attempts + 1
    started = timezone.now()
    result = _send(delivery, webhook, number)
    return _record(delivery, webhook, number, started, result)


def _send(delivery: WebhookDelivery, webhook: Webhook, number: int) -> Result:
    body = delivery.body.encode()
    destination = formats.destination_of(webhook)
    headers = formats.request_headers(
        destination,
        body,
        event_id=str(delivery.event_id),
        event_type=delivery.event_type,
        timestamp=int(time.time()),
        attempt=number,
    )
    started = time.monotonic()
    try:
        response = outbound.post(
            formats.request_url(destination),
            body,
            headers=headers,
            timeout=settings.VEXIL_WEBHOOK_TIMEOUT_SECONDS,
        )
    except outbound.OutboundRefusedError as refusal:
        return Result(None, _ms_since(started), f"Refused: {refusal}", "", retryable=False)
    except outbound.OutboundNetworkError as error:
        return Result(None, _ms_since(started), str(error), "", retryable=True)
    return _result_of(response)


def _ms_since(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


def _result_of(response: outbound.OutboundResponse) -> Result:
    status = response.status
    text = response.body.decode("utf-8", errors="replace")[:RESPONSE_LOG_CHARS]
    latency = round(response.elapsed * 1000)
    if 200 <= status < 300:
        return Result(status, latency, "", text, retryable=False)
    if status == 429 or status >= 500:
        error = f"HTTP {status}."
        return Result(status, latency, error, text, True, _retry_after(response.headers))
    error = f"HTTP {status}."
    if 300 <= status < 400:
        error = (
            f"HTTP {status}: redirects are not followed ({response.headers.get('location', '')})."
        )
    return Result(status, latency, error, text, retryable=False)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    value = headers.get("retry-after")
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (moment - timezone.now()).total_seconds())


def retry_delay(number: int, retry_after: float | None) -> float | None:
    """Seconds before attempt ``number + 1``, or None when the schedule is spent."""
    delays = settings.VEXIL_WEBHOOK_RETRY_DELAYS
    if number > len(delays):
        return None
    delay = delays[number - 1] * random.uniform(0.5, 1.0)
    if retry_after is not None:
        delay = max(delay, min(retry_after, max(delays)))
    return delay


# --- Recording the outcome --------------------------------------------------------------------
def _record(
    delivery: WebhookDelivery, webhook: Webhook, number: int, started: datetime, result: Result
) -> float | None:
    delay = retry_delay(number, result.retry_after) if result.retryable else None
    if result.ok:
        outcome, status = AttemptOutcome.DELIVERED, DeliveryStatus.DELIVERED
    elif delay is not None:
        outcome, status = AttemptOutcome.RETRY, DeliveryStatus.PENDING
    else:
        outcome, status = AttemptOutcome.FAILED, DeliveryStatus.FAILED
    now = timezone.now()
    with transaction.atomic():
        WebhookAttempt.objects.create(
            delivery=delivery,
            number=number,
            started_at=started,
            status_code=result.status_code,
            latency_ms=result.latency_ms,
            error=result.error,
            response_body=result.response_body,
            outcome=outcome,
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            attempts=number,
            status=status,
            next_attempt_at=now + timedelta(seconds=delay or 0),
            locked_until=None,
            completed_at=None if status == DeliveryStatus.PENDING else now,
            last_status_code=result.status_code,
            last_error=result.error,
        )
        if status == DeliveryStatus.DELIVERED and webhook.consecutive_failures:
            Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=0)
        elif status == DeliveryStatus.FAILED:
            _failure_count(webhook, result.error)
    return delay if status == DeliveryStatus.PENDING else None


def _cancel(delivery: WebhookDelivery, reason: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.CANCELLED,
        locked_until=None,
        completed_at=timezone.now(),
        last_error=reason,
    )


def _failure_count(webhook: Webhook, error: str) -> None:
    Webhook.objects.filter(pk=webhook.pk).update(consecutive_failures=F("consecutive_failures") + 1)
    webhook.refresh_from_db(fields=["consecutive_failures", "enabled"])
    limit = settings.VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES
    if not webhook.enabled or webhook.consecutive_failures < limit:
        return
    reason = f"Disabled after {webhook.consecutive_failures} failed deliveries in a row: {error}"
    Webhook.objects.filter(pk=webhook.pk).update(
        enabled=False, disabled_reason=reason[:500], updated_at=timezone.now()
    )
    _tell_organisation(webhook, reason)


def _tell_organisation(webhook: Webhook, reason: str) -> None:
    """Queue the e-mail (the outbox of :mod:`vexil.common.mail`) in the same transaction."""
    logger.warning("Webhook %s (%s) disabled: %s", webhook.pk, webhook.url, reason)
    recipient = webhook.organisation.webhook_notification_email
    if not recipient:
        return
    environment = webhook.environment
    where = (
        f"environment {environment.name} of project {environment.project.name}"
        if environment is not None
        else f"organisation {webhook.organisation.name}"
    )
    email_queue(
        kind="webhook_disabled",
        recipient=recipient,
        subject=FAILURE_SUBJECT,
        template="webhooks/emails/webhook_disabled",
        context={"webhook": webhook, "where": where, "reason": reason},
        base_url=public_base_url(),
        organisation_id=webhook.organisation_id,
    )


# --- Retention ------------------------------------------------------------------------------
_last_purge = 0.0
PURGE_INTERVAL_SECONDS = 3600


def purge_old() -> int:
    """Delete finished deliveries (and their attempts) older than the retention period."""
    cutoff = timezone.now() - timedelta(days=settings.VEXIL_WEBHOOK_LOG_RETENTION_DAYS)
    deleted, _ = (
        WebhookDelivery.objects.exclude(status=DeliveryStatus.PENDING)
        .filter(created_at__lt=cutoff)
        .delete()
    )
    return deleted


def purge_if_due() -> None:
    global _last_purge
    if time.monotonic() - _last_purge >= PURGE_INTERVAL_SECONDS:
        _last_purge = time.monotonic()
        purge_old()
