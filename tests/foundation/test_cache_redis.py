"""The shared cache: REDIS_URL selects django-redis, and every process sees the same values."""

from __future__ import annotations

import runpy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

import vexil.settings
from tests.processes import run_vexil, vexil_environment

pytestmark = pytest.mark.redis


def _settings_from(**environment: str) -> dict[str, Any]:
    """Vexil's settings as a process started with ``environment`` added would compute them."""
    with pytest.MonkeyPatch.context() as patch:
        for name, value in environment.items():
            patch.setenv(name, value)
        return runpy.run_path(str(Path(vexil.settings.__file__)))


@pytest.fixture
def redis_cache(redis_url: str) -> Iterator[str]:
    """This process configured as if started with REDIS_URL set."""
    computed = _settings_from(REDIS_URL=redis_url)
    with override_settings(CACHES=computed["CACHES"], REDIS_URL=computed["REDIS_URL"]):
        yield redis_url


def test_settings__redis_url__selects_django_redis(redis_url: str) -> None:
    assert _settings_from(REDIS_URL=redis_url)["CACHES"] == {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "vexil",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }


def test_cache__redis__round_trip(redis_cache: str) -> None:
    cache.set("round-trip", {"flags": [1, 2, 3], "name": "ünïcode"}, timeout=30)
    assert cache.get("round-trip") == {"flags": [1, 2, 3], "name": "ünïcode"}


@pytest.mark.django_db
def test_readiness__redis_cache__reports_redis(redis_cache: str) -> None:
    response = Client().get("/health/readiness/")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "checks": {
            "database": {"status": "ok"},
            "cache": {"status": "ok"},
            "sdk_view": {"status": "ok"},
        },
        "database": connection.vendor,
        "cache": "redis",
    }


_OTHER_PROCESS = """
from django.core.cache import cache
print(cache.get("from-test-process"))
cache.set("from-other-process", {"written-by": "other"}, timeout=30)
"""


def test_cache__redis__shared_between_processes(redis_cache: str, tmp_path: Path) -> None:
    # Given a value this process wrote
    cache.set("from-test-process", "written-by-test", timeout=30)
    # When another process reads it and writes one of its own
    result = run_vexil(
        "manage",
        "shell",
        "--no-imports",
        "-c",
        _OTHER_PROCESS,
        env=vexil_environment(REDIS_URL=redis_cache, VEXIL_DATA_DIR=str(tmp_path)),
    )
    # Then each sees the other's
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "written-by-test"
    assert cache.get("from-other-process") == {"written-by": "other"}


def test_cli_check__postgres_and_redis__reports_both(
    scratch_postgres_url: str, redis_url: str, tmp_path: Path
) -> None:
    environment = vexil_environment(
        DATABASE_URL=scratch_postgres_url, REDIS_URL=redis_url, VEXIL_DATA_DIR=str(tmp_path)
    )
    result = run_vexil("check", env=environment)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == (
        "Configuration OK: database postgresql, cache redis, background work in process."
    )
