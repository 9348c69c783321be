"""Every configuration input, fed a bad value, stops `vexil` with one line that names it.

Each case runs `vexil check` as an operator would: non-zero exit, no traceback, the variable's
name in what it prints. Values refused while the settings load run in one process
(``config_probe.py``); those Django's system checks refuse run in their own. A variable the
settings read that has neither a bad-value case here nor a place in ``FREE_FORM`` fails the
coverage test, so a new variable cannot be added without deciding what a bad value of it is.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.foundation.test_configuration_doc import variables_read_by_settings
from tests.processes import run_vexil, vexil_environment

# Variables any non-empty string is a valid value of (names, passwords, free words).
FREE_FORM = frozenset(
    {
        "DJANGO_ALLOWED_HOSTS",
        "DJANGO_DB_HOST",
        "DJANGO_DB_NAME",
        "DJANGO_DB_PASSWORD",
        "DJANGO_DB_USER",
        "DJANGO_SECRET_KEY",  # outside production; production's rules have their own tests
        "DJANGO_SECRET_KEY_FALLBACKS",  # earlier keys, any strings
        "EMAIL_HOST",
        "EMAIL_HOST_PASSWORD",
        "EMAIL_HOST_USER",
        "OIDC_CLIENT_SECRET",
        "ENV",
        "SECURE_PROXY_SSL_HEADER_VALUE",
    }
)

A_FILE = "{file}"  # replaced by the path of an existing regular file

# (variable, bad value, other variables the case needs)
BAD_VALUES: list[tuple[str, str, dict[str, str]]] = [
    ("VEXIL_CONFIG_FILE", "/nonexistent/vexil.env", {}),
    ("VEXIL_DATA_DIR", A_FILE, {}),
    ("VEXIL_DATA_DIR", A_FILE + "/data", {}),
    ("DJANGO_SETTINGS_MODULE", "no_such_settings", {}),
    ("DJANGO_DEBUG", "maybe", {}),
    ("DATABASE_URL", "mysql://db/vexil", {}),
    ("DJANGO_DB_PORT", "x", {"DJANGO_DB_HOST": "db"}),
    ("REDIS_URL", "localhost:6379", {}),
    ("CELERY_BROKER_URL", "amqp://localhost", {}),
    ("DJANGO_CSRF_TRUSTED_ORIGINS", "flags.example.com", {}),
    ("DJANGO_CORS_ALLOWED_ORIGINS", "app.example.com", {}),
    ("USE_X_FORWARDED_HOST", "sometimes", {}),
    ("SECURE_PROXY_SSL_HEADER_NAME", "X-Forwarded-Proto", {}),
    ("DJANGO_SECURE_SSL_REDIRECT", "2", {}),
    ("DJANGO_SECURE_SSL_HOST", "https://flags.example.com/", {}),
    ("DJANGO_SECURE_REDIRECT_EXEMPT", "^health/(", {}),
    ("DJANGO_SECURE_HSTS_SECONDS", "-1", {}),
    ("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", "y", {}),
    ("DJANGO_SECURE_HSTS_PRELOAD", "n", {}),
    ("DJANGO_SECURE_CONTENT_TYPE_NOSNIFF", "nope", {}),
    ("DJANGO_SECURE_REFERRER_POLICY", "same-site", {}),
    ("DJANGO_SECURE_CROSS_ORIGIN_OPENER_POLICY", "cross-origin", {}),
    ("DJANGO_SESSION_COOKIE_SECURE", "always", {}),
    ("DJANGO_CSRF_COOKIE_SECURE", "always", {}),
    ("ALLOWED_ADMIN_IP_ADDRESSES", "10.0.0.0/8,office", {}),
    ("ENABLE_GZIP_COMPRESSION", "gzip", {}),
    ("VEXIL_SDK_REFRESH_SECONDS", "0", {}),
    ("VEXIL_SDK_MAX_STALENESS_SECONDS", "0.5", {}),
    ("DASHBOARD_POLL_SECONDS", "0.1", {}),
    ("VEXIL_SDK_THREADS", "many", {}),
    ("VEXIL_SDK_IDENTITY_CACHE_MB", "-5", {}),
    ("VEXIL_SDK_PREPARED_STATEMENTS", "perhaps", {}),
    ("VEXIL_ANALYTICS_FLUSH_SECONDS", "soon", {}),
    ("LOG_LEVEL", "verbose", {}),
    ("LOG_FORMAT", "xml", {}),
    ("ACCESS_LOG_LOCATION", "/nonexistent/access.log", {}),
    ("LOG_REPEAT_LIMIT", "0", {}),
    ("LOG_REPEAT_WINDOW_SECONDS", "a minute", {}),
    ("EMAIL_BACKEND", "sendgrid", {}),
    ("EMAIL_PORT", "smtp", {}),
    ("EMAIL_USE_TLS", "true", {"EMAIL_USE_SSL": "true"}),
    ("EMAIL_USE_SSL", "tls", {}),
    ("EMAIL_TIMEOUT", "0", {}),
    ("EMAIL_FILE_PATH", A_FILE, {}),
    ("SENDER_EMAIL", "noreply", {}),
    ("EMAIL_MAX_ATTEMPTS", "0", {}),
    ("EMAIL_RETRY_BACKOFF_SECONDS", "soon", {}),
    ("EMAIL_OUTBOX_SWEEP_SECONDS", "hourly", {}),
    ("VEXIL_PUBLIC_URL", "flags.example.com", {}),
    ("FLAGSMITH_DOMAIN", "ftp://flags.example.com", {}),
    ("SENTRY_SDK_DSN", "not-a-dsn", {}),
    ("SENTRY_TRACES_SAMPLE_RATE", "5", {}),
    ("AUTH_TOKEN_TTL_HOURS", "forever", {}),
    ("ALLOW_REGISTRATION_WITHOUT_INVITE", "invite", {}),
    ("PREVENT_SIGNUP", "never", {}),
    ("INVITE_EXPIRY_DAYS", "0", {}),
    ("DISABLE_INVITE_LINKS", "links", {}),
    ("MAX_SEATS_PER_ORGANISATION", "-1", {}),
    ("INVITE_THROTTLE_RATE", "ten", {}),
    ("USER_CREATE_PERMISSIONS", "admins", {}),
    ("AXES_ENABLED", "enabled", {}),
    ("AXES_FAILURE_LIMIT", "0", {}),
    ("AXES_COOLOFF_MINUTES", "half an hour", {}),
    ("AXES_LOCKOUT_PARAMETERS", "ip", {}),
    ("AUTH_THROTTLE_RATE", "10 per minute", {}),
    ("LOGIN_ACCOUNT_FREE_FAILURES", "0", {}),
    ("PASSWORD_RESET_TIMEOUT", "3 days", {}),
    ("MAX_PASSWORD_RESET_EMAILS", "0", {}),
    ("SIGN_UP_CONFIRMATION_TIMEOUT", "59", {}),
    ("PASSWORD_RESET_EMAIL_COOLDOWN", "0", {}),
    ("PASSWORD_RESET_THROTTLE_RATE", "often", {}),
    ("VEXIL_OFREP_RATE_LIMIT", "fast", {}),
    ("LOGIN_ACCOUNT_DELAY_SECONDS", "-1", {}),
    ("LOGIN_ACCOUNT_DELAY_MAX_SECONDS", "five minutes", {}),
    ("VEXIL_HOST", "127.0.0.1:8000", {}),
    ("VEXIL_PORT", "http", {}),
    ("VEXIL_WORKERS", "0", {}),
    ("VEXIL_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8,intranet", {}),
    ("VEXIL_WEBHOOK_TIMEOUT_SECONDS", "0", {}),
    ("VEXIL_WEBHOOK_RETRY_DELAYS", "5,-1", {}),
    ("VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES", "0", {}),
    ("VEXIL_WEBHOOK_LOG_RETENTION_DAYS", "a month", {}),
    ("VEXIL_WEBHOOK_POLL_SECONDS", "0", {}),
    ("VEXIL_WEBHOOK_SWEEP_SECONDS", "0", {}),
    ("VEXIL_OUTBOUND_CA_BUNDLE", "/nonexistent/ca.pem", {}),
    ("VEXIL_STREAMS_MAX", "-1", {}),
    ("VEXIL_STREAMS_HEARTBEAT_SECONDS", "0", {}),
    ("OIDC_ISSUER", "id.example.com", {}),
    ("OIDC_CLIENT_ID", "", {"OIDC_ISSUER": "https://id.example.com"}),
    (
        "OIDC_SCOPES",
        "email profile",
        {"OIDC_ISSUER": "https://id.example.com", "OIDC_CLIENT_ID": "vexil"},
    ),
    ("OIDC_ALLOWED_EMAIL_DOMAINS", "example.com,a b", {}),
    ("OIDC_CREATE_USERS", "sometimes", {}),
    ("OIDC_NEW_USER_ORGANISATION", "acme", {}),
    ("OIDC_NEW_USER_ROLE", "owner", {}),
    ("PREVENT_EMAIL_PASSWORD", "maybe", {}),
]
# Well-formed but naming nothing importable: the system checks of every command refuse these.
BAD_CLASSES = [
    ("EMAIL_BACKEND", "no_such_package.EmailBackend"),
    ("USER_CREATE_PERMISSIONS", "rest_framework.permissions.AllowAny,no_such_package.Permission"),
]


def _environment(tmp_path: Path, variables: dict[str, str]) -> dict[str, str]:
    """A clean environment (none of this process's configuration) with ``variables``."""
    a_file = tmp_path / "a-file"
    a_file.write_text("not a directory\n")
    env = {
        name: value
        for name, value in vexil_environment().items()
        if not name.startswith(("DJANGO_", "VEXIL_", "EMAIL_", "SENTRY_"))
        and name not in ("ENV", "LOG_LEVEL", "LOG_FORMAT")
    }
    env["VEXIL_DATA_DIR"] = str(tmp_path / "data")
    env.update({name: value.replace(A_FILE, str(a_file)) for name, value in variables.items()})
    return env


def _run(command: str, tmp_path: Path, **variables: str) -> subprocess.CompletedProcess[str]:
    return run_vexil(command, env=_environment(tmp_path, variables))


@pytest.fixture(scope="module")
def bad_value_results(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    """`vexil check` for every case of BAD_VALUES, by case id."""
    tmp_path = tmp_path_factory.mktemp("bad-values")
    cases = [
        {name: value.replace(A_FILE, str(tmp_path / "a-file")) for name, value in case.items()}
        for case in ({**context, variable: value} for variable, value, context in BAD_VALUES)
    ]
    probe = subprocess.run(
        [sys.executable, str(Path(__file__).with_name("config_probe.py"))],
        input=json.dumps(cases),
        env=_environment(tmp_path, {}),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    results = json.loads(probe.stdout)
    return dict(zip(CASE_IDS, results, strict=False))


CASE_IDS = [f"{variable}={value}" for variable, value, _ in BAD_VALUES]


def test_bad_values__every_variable_settings_reads__has_a_case_or_is_free_form() -> None:
    covered = {variable for variable, _, _ in BAD_VALUES} | FREE_FORM
    covered |= {variable for variable, _ in BAD_CLASSES}
    assert sorted(variables_read_by_settings() - covered) == []


@pytest.mark.parametrize(
    ("variable", "case_id"),
    [(variable, case_id) for (variable, _, _), case_id in zip(BAD_VALUES, CASE_IDS, strict=True)],
    ids=CASE_IDS,
)
def test_cli_check__bad_value__one_line_naming_variable(
    bad_value_results: dict[str, dict[str, Any]], variable: str, case_id: str
) -> None:
    result = bad_value_results[case_id]

    assert (result["code"], result["loaded"]) == (2, False), result
    assert result["stdout"] == ""
    assert result["stderr"].startswith(f"vexil: configuration error: {variable} must be ")
    assert len(result["stderr"].splitlines()) == 1, result["stderr"]


@pytest.mark.parametrize(("variable", "value"), BAD_CLASSES)
def test_cli_check__class_that_cannot_be_imported__exits_non_zero_naming_variable(
    tmp_path: Path, variable: str, value: str
) -> None:
    result = _run("check", tmp_path, **{variable: value})

    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    assert f"{variable} names 'no_such_package." in result.stderr


def test_cli__data_dir_is_a_file__one_line_naming_it(tmp_path: Path) -> None:
    for command in ("check", "serve"):
        result = _run(command, tmp_path, VEXIL_DATA_DIR=A_FILE)

        assert result.returncode == 2
        assert result.stderr.splitlines() == [
            "vexil: configuration error: VEXIL_DATA_DIR must be a directory, not a file "
            f"(got {str(tmp_path / 'a-file')!r})"
        ]


# --- Production mode (ENV=production) refuses what is only safe on a developer's machine ---

STRONG_KEY = "k7Gq2vX9pLmN4rT8wY1zB6cD3fH5jK0sQeRuAoIyEtUxWnMbVlZ"
PRODUCTION = {"ENV": "production", "DJANGO_SECRET_KEY": STRONG_KEY, "DJANGO_ALLOWED_HOSTS": "*"}


def test_production__complete_configuration__check_passes(tmp_path: Path) -> None:
    result = _run("check", tmp_path, **{**PRODUCTION, "DJANGO_ALLOWED_HOSTS": "flags.example.com"})

    assert result.returncode == 0, result.stderr
    assert "Configuration OK" in result.stdout


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ({"DJANGO_DEBUG": "true"}, "DJANGO_DEBUG must be false (or unset) when ENV=production"),
        (
            {"DJANGO_SECRET_KEY": "changeme"},
            "DJANGO_SECRET_KEY must be at least 50 random characters when ENV=production",
        ),
        (
            {"DJANGO_SECRET_KEY": "a" * 60},
            "DJANGO_SECRET_KEY must be at least 50 random characters when ENV=production",
        ),
        (
            {"DJANGO_SECRET_KEY": "django-insecure-" + STRONG_KEY},
            "DJANGO_SECRET_KEY must be at least 50 random characters when ENV=production",
        ),
        ({"DJANGO_ALLOWED_HOSTS": ""}, "DJANGO_ALLOWED_HOSTS must be set when ENV=production"),
    ],
    ids=["debug", "short-key", "repetitive-key", "django-insecure-key", "no-allowed-hosts"],
)
def test_production__unsafe_setting__refuses_to_start_saying_what_to_set(
    tmp_path: Path, override: dict[str, str], message: str
) -> None:
    result = _run("check", tmp_path, **{**PRODUCTION, **override})

    assert result.returncode == 2
    assert result.stderr.startswith(f"vexil: configuration error: {message}")
    assert "Traceback" not in result.stderr


def test_production__weak_key_message__hint_makes_an_accepted_key(tmp_path: Path) -> None:
    # Given: the command the refusal suggests
    refused = _run("check", tmp_path, **{**PRODUCTION, "DJANGO_SECRET_KEY": "changeme"})
    hint = re.search(r"python3 -c '([^']+)'", refused.stderr)
    assert hint, refused.stderr
    # When
    made = subprocess.run(["python3", "-c", hint[1]], capture_output=True, text=True, check=True)
    # Then
    accepted = _run("check", tmp_path, **{**PRODUCTION, "DJANGO_SECRET_KEY": made.stdout.strip()})
    assert accepted.returncode == 0, accepted.stderr
