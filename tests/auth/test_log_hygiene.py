"""What the server log shows when requests carrying credentials fail: no secrets, no locals, and
no flood (issue 10, item 8). End to end: ``vexil serve`` on the development install's defaults."""

from __future__ import annotations

import json
import logging
import sqlite3
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.processes import (
    free_port,
    http_get,
    read_text,
    run_vexil,
    running,
    vexil_command,
    vexil_environment,
    wait_for,
)
from vexil.common.logging import (
    REDACTED,
    RepeatedRecordFilter,
    redact,
    secrets_scope,
)

PASSWORD = "Sup3r-secret passphrase!"
REPEATS = 10
WINDOW = 30.0  # seconds; a login hashes its password for about a second here


def _post(url: str, body: object, **headers: str) -> int:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_serve__errors_on_requests_with_credentials__log_has_no_secrets_and_no_flood(
    tmp_path: Path,
) -> None:
    # Given an install whose token table is gone (an outage)
    env = vexil_environment(
        VEXIL_DATA_DIR=str(tmp_path / "data"),
        LOG_REPEAT_WINDOW_SECONDS=str(WINDOW),
        AUTH_THROTTLE_RATE="1000/min",
    )
    result = run_vexil(
        "bootstrap", "--json", "--email", "ops@example.com", "--password", PASSWORD, env=env
    )
    assert result.returncode == 0, result.stderr
    server_key = json.loads(result.stdout)["environments"][0]["server_key"]
    with sqlite3.connect(tmp_path / "data" / "vexil.sqlite3") as database:
        database.execute("DROP TABLE knox_authtoken")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    stderr = tmp_path / "stderr.log"
    command = vexil_command("serve", "--port", str(port), "--workers", "1", "--no-migrate")
    with running(command, env=env, output=tmp_path / "stdout.log", errors=stderr) as process:
        wait_for(
            lambda: http_get(url + "/health/liveness/"),
            timeout=60,
            what="the server",
            process=process,
        )

        # When logins carrying the password and the server key fail, again and again
        def login() -> int:
            return _post(
                url + "/api/v1/auth/login/",
                {"email": "ops@example.com", "password": PASSWORD},
                **{"X-Environment-Key": server_key, "Authorization": f"Api-Key {server_key}"},
            )

        started = time.monotonic()
        statuses = [login() for _ in range(REPEATS)]
        assert time.monotonic() - started < WINDOW, "the repeats must fall in one window"
        # the window ends; the next copy reports the dropped ones
        time.sleep(max(0.0, started + WINDOW + 0.5 - time.monotonic()))
        statuses.append(login())
    log = read_text(stderr)
    # Then they failed, and the log names neither the password nor the key
    assert set(statuses) == {500}
    assert PASSWORD not in log
    assert server_key not in log
    assert server_key[4:] not in log
    # no local variables (rich's locals panel) in any traceback
    assert "locals" not in log
    # and identical errors were written a bounded number of times, then counted
    assert log.count("Unhandled API error") == 5 + 1
    assert f"suppressed_repeats={REPEATS - 5}" in log
    assert len(log.splitlines()) < 700


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Authorization: Token 0123456789abcdef", f"Authorization: {REDACTED}"),
        ("header Api-Key abcdef.1234567890ab sent", f"header Api-Key {REDACTED} sent"),
        ("key ser.abcdefghijklmnop used", f"key {REDACTED} used"),
        (
            "{'password': 'hunter22', 'email': 'a@b.c'}",
            f"{{'password': '{REDACTED}', 'email': 'a@b.c'}}",
        ),
        ('{"new_password": "x y z"}', f'{{"new_password": "{REDACTED} y z"}}'),
        ("login?password=hunter22&next=/", f"login?password={REDACTED}&next=/"),
        ("X-Environment-Key=abcdefgh1234", f"X-Environment-Key={REDACTED}"),
        ("nothing secret here", "nothing secret here"),
    ],
)
def test_redact__credential_patterns__replaced(line: str, expected: str) -> None:
    assert redact(line) == expected


def test_redact__request_secrets__replaced_anywhere_in_scope() -> None:
    # Given
    with secrets_scope(["correct horse battery", "abc"]):
        # Then (values shorter than four characters are not worth mangling a line for)
        assert redact("ValueError: correct horse battery abc") == f"ValueError: {REDACTED} abc"
    assert redact("correct horse battery") == "correct horse battery"


def _record(message: str, level: int = logging.ERROR) -> logging.LogRecord:
    return logging.LogRecord("vexil.test", level, __file__, 1, message, None, None)


def test_repeated_record_filter__identical_errors__limited_per_window_then_counted() -> None:
    # Given
    repeats = RepeatedRecordFilter(limit=2, window=0.2)
    # When
    passed = [repeats.filter(_record("boom")) for _ in range(5)]
    other = repeats.filter(_record("another"))
    info = [repeats.filter(_record("boom", logging.INFO)) for _ in range(5)]
    time.sleep(0.25)
    next_window = _record("boom")
    # Then
    assert passed == [True, True, False, False, False]
    assert other is True
    assert info == [True] * 5
    assert repeats.filter(next_window) is True
    assert next_window.suppressed == 3  # type: ignore[attr-defined]
