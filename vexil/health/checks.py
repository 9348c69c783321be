"""Readiness checks: each returns None when healthy, or a short reason when not."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.cache import cache
from django.db import connection

from vexil.evaluation import freshness


def database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()
    return None


def cache_round_trip() -> str | None:
    key = f"health:{secrets.token_hex(8)}"
    try:
        cache.set(key, "ok", timeout=5)
        value = cache.get(key)
        cache.delete(key)
    except Exception as error:
        return f"{type(error).__name__}: {error}".strip()
    return None if value == "ok" else "the cache did not return the value just written"


def sdk_view() -> str | None:
    return freshness.problem(settings.VEXIL_SDK_MAX_STALENESS_SECONDS)


CHECKS = {"database": database, "cache": cache_round_trip, "sdk_view": sdk_view}


def run_all() -> dict[str, str | None]:
    return {name: check() for name, check in CHECKS.items()}
