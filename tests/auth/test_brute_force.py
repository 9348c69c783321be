"""Brute-force limits (issue 10, item 9): per account as well as per address, an exact
``Retry-After``, and state that every worker of a multi-worker ``vexil serve`` shares."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from axes.models import AccessAttempt
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from tests.processes import (
    free_port,
    http_get,
    read_text,
    running,
    vexil_command,
    vexil_environment,
    wait_for,
)
from vexil.users.limits import login_delay_for, rate_limit_hit
from vexil.users.models import LoginFailureCount, User

LOGIN = "/api/v1/auth/login/"
PASSWORD = "correct horse 1"
EMAIL = "ada@example.com"


@pytest.fixture
def user(db: None) -> User:
    return User.objects.create_user(email=EMAIL, password=PASSWORD)


def _login(password: str, address: str, email: str = EMAIL) -> object:
    return APIClient(REMOTE_ADDR=address).post(LOGIN, {"email": email, "password": password})


def _expire_delay() -> None:
    LoginFailureCount.objects.update(next_attempt_at=timezone.now() - timedelta(seconds=1))


@override_settings(AUTH_THROTTLE_RATE="1000/min")
def test_login__guesses_spread_over_addresses__account_delayed_after_five(user: User) -> None:
    # Given five guesses from five addresses (no address reaches its own lock-out)
    first = [_login("wrong", f"10.0.0.{n}").status_code for n in range(1, 6)]  # type: ignore[attr-defined]
    # When a sixth address guesses, and then the right password is tried at once
    sixth = _login("wrong", "10.0.0.6")
    right_too_soon = _login(PASSWORD, "10.0.0.7")
    # Then
    assert first == [400] * 5
    assert sixth.status_code == 429  # type: ignore[attr-defined]
    assert sixth.json() == {  # type: ignore[attr-defined]
        "detail": "Too many failed logins for this account. Try again in 1 seconds.",
        "code": "login_delayed",
    }
    assert sixth["Retry-After"] == "1"  # type: ignore[index]
    assert right_too_soon.status_code == 429  # type: ignore[attr-defined]
    # The delay is a wait, not a lock: once it has passed the real user gets in
    _expire_delay()
    assert _login(PASSWORD, "10.0.0.7").status_code == 200  # type: ignore[attr-defined]
    assert LoginFailureCount.objects.count() == 0


@override_settings(AUTH_THROTTLE_RATE="1000/min", AXES_FAILURE_LIMIT=1000)
def test_login__failures_after_delay__delay_doubles(user: User) -> None:
    # Given
    for n in range(5):
        _login("wrong", f"10.0.1.{n}")
    waits = []
    for _ in range(4):
        # When each delay passes and the guesser fails again
        _expire_delay()
        _login("wrong", "10.0.2.1")
        waits.append(_login("wrong", "10.0.2.1")["Retry-After"])  # type: ignore[index]
    # Then
    assert waits == ["2", "4", "8", "16"]
    assert LoginFailureCount.objects.get().failures == 9


def test_login_delay_for__capped() -> None:
    assert [login_delay_for(n) for n in (1, 4, 5, 6, 7)] == [0.0, 0.0, 1.0, 2.0, 4.0]
    assert login_delay_for(40) == 300.0


def test_login__unknown_account__delayed_the_same(db: None) -> None:
    # The delay must not tell which addresses have accounts.
    for n in range(5):
        _login("wrong", f"10.0.3.{n}", email="nobody@example.com")
    response = _login("wrong", "10.0.3.9", email="nobody@example.com")
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response.json()["code"] == "login_delayed"  # type: ignore[attr-defined]


@override_settings(AXES_FAILURE_LIMIT=3, AUTH_THROTTLE_RATE="1000/min")
def test_login__locked_out_address__retry_after_counts_down(user: User) -> None:
    # Given an address locked out 100 seconds ago (cool-off 30 minutes)
    for _ in range(3):
        _login("wrong", "10.0.4.1")
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(seconds=100))
    # When
    response = _login(PASSWORD, "10.0.4.1")
    # Then
    assert response.status_code == 429  # type: ignore[attr-defined]
    assert response.json()["code"] == "locked_out"  # type: ignore[attr-defined]
    assert response["Retry-After"] == "1700"  # type: ignore[index]


def test_rate_limit_hit__over_limit__exact_wait_and_not_counted(db: None) -> None:
    # Given
    allowed = [rate_limit_hit(key="k", limit=3, period=60) for _ in range(3)]
    # When
    refused = rate_limit_hit(key="k", limit=3, period=60)
    # Then
    assert allowed == [0.0, 0.0, 0.0]
    assert 19.5 < refused <= 20.0  # one slot frees every 60/3 seconds


def _post_login(url: str, email: str) -> int:
    request = urllib.request.Request(
        url + LOGIN,
        data=json.dumps({"email": email, "password": "wrong"}).encode(),
        method="POST",
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_serve__two_workers_embedded__one_throttle_budget(tmp_path: Path) -> None:
    # Given the embedded default (SQLite, no Redis) with two workers
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = vexil_environment(
        VEXIL_DATA_DIR=str(tmp_path / "data"),
        AUTH_THROTTLE_RATE="10/hour",
        AXES_FAILURE_LIMIT="1000",
    )
    command = vexil_command("serve", "--port", str(port), "--workers", "2")
    log = tmp_path / "server.log"
    with running(command, env=env, output=log) as process:
        try:
            wait_for(
                lambda: http_get(url + "/health/liveness/"),
                timeout=60,
                what="the server",
                process=process,
            )
        except AssertionError as error:
            raise AssertionError(f"{error}\n{read_text(log)}") from None
        # When 50 guesses arrive in parallel (each at a different account)
        with ThreadPoolExecutor(max_workers=10) as pool:
            statuses = list(pool.map(lambda n: _post_login(url, f"user{n}@example.com"), range(50)))
    # Then exactly the rate got through to the password check, across both workers
    assert statuses.count(400) == 10, statuses
    assert statuses.count(429) == 40, statuses
