"""Rate limits and login delays whose state lives in the database, so every worker of every
process shares it (the embedded default has no Redis; a per-process cache let each worker allow
the full rate on its own)."""

from __future__ import annotations

import math
import random
import time
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from vexil.users.models import LoginFailureCount, RateLimitBucket

# Roughly one hit in this many also deletes buckets that have long been empty.
_CLEANUP_ONE_IN = 200


def rate_limit_hit(*, key: str, limit: int, period: float) -> float:
    """Count one request against ``limit`` per ``period`` seconds for ``key``.

    Returns 0.0 when the request is allowed (and counted), otherwise the seconds until it would
    be (nothing is counted).
    """
    now = time.time()
    interval = period / limit
    with transaction.atomic():
        bucket, _ = RateLimitBucket.objects.select_for_update().get_or_create(
            key=key, defaults={"tat": now}
        )
        tat = max(bucket.tat, now) + interval
        wait = tat - period - now
        if wait > 0:
            return wait
        bucket.tat = tat
        bucket.save(update_fields=["tat"])
    if random.randrange(_CLEANUP_ONE_IN) == 0:
        RateLimitBucket.objects.filter(tat__lt=now - 3600).delete()
    return 0.0


def retry_after_header(seconds: float) -> str:
    """``Retry-After`` in whole seconds, never promising earlier than true."""
    return str(max(1, math.ceil(seconds)))


def _login_key(email: str) -> str:
    return (email or "").strip().lower()[:254]


def login_delay_remaining(*, email: str) -> float:
    """Seconds before ``email`` may try to log in again (0.0: now)."""
    row = LoginFailureCount.objects.filter(email=_login_key(email)).first()
    if row is None or row.next_attempt_at is None:
        return 0.0
    return max(0.0, (row.next_attempt_at - timezone.now()).total_seconds())


def login_delay_for(failures: int) -> float:
    """The wait after the ``failures``-th failure: none before the free ones are used up, then
    the base delay, doubling with each further failure (capped)."""
    over = failures - settings.LOGIN_ACCOUNT_FREE_FAILURES
    if over < 0:
        return 0.0
    base: float = settings.LOGIN_ACCOUNT_DELAY_SECONDS
    return float(min(settings.LOGIN_ACCOUNT_DELAY_MAX_SECONDS, base * 2 ** min(over, 30)))


def login_failure_record(*, email: str) -> float:
    """Count a failed login for ``email``; return the wait it imposes on the next attempt."""
    now = timezone.now()
    with transaction.atomic():
        row, _ = LoginFailureCount.objects.select_for_update().get_or_create(
            email=_login_key(email)
        )
        row.failures += 1
        delay = login_delay_for(row.failures)
        row.next_attempt_at = now + timedelta(seconds=delay) if delay else None
        row.updated_at = now
        row.save(update_fields=["failures", "next_attempt_at", "updated_at"])
    return delay


def login_failures_clear(*, email: str) -> None:
    """A successful login or a new password: the address starts afresh."""
    LoginFailureCount.objects.filter(email=_login_key(email)).delete()
