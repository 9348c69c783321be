from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from vexil.health import checks


@csrf_exempt
@require_GET
def liveness(request: HttpRequest) -> JsonResponse:
    """The process answers. Never touches the database or the cache."""
    return JsonResponse({"status": "ok"})


@csrf_exempt
@require_GET
def readiness(request: HttpRequest) -> JsonResponse:
    """The database and the cache are reachable; the body names every failed check."""
    results = checks.run_all()
    failed = {name: reason for name, reason in results.items() if reason}
    body = {
        "status": "error" if failed else "ok",
        "checks": {
            name: {"status": "error", "reason": reason} if reason else {"status": "ok"}
            for name, reason in results.items()
        },
        "database": connection.vendor,
        "cache": "redis" if settings.REDIS_URL else "in-process",
    }
    return JsonResponse(body, status=503 if failed else 200)


@csrf_exempt
@require_GET
def version(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"version": settings.VERSION, "ci_commit_sha": "unknown"})
