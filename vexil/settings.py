"""Django settings, read from the environment (see docs/configuration.md for every variable).

This module never imports Vexil's apps (an import-linter contract keeps it so). A malformed value
raises :class:`vexil.config.ConfigurationError`, which names the variable.
"""

from __future__ import annotations

import ipaddress
import logging
import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url

from vexil import __version__
from vexil.config import (
    ConfigurationError,
    Environment,
    dotted_path,
    email_address,
    file_path,
    host_name,
    ip_network,
    origin,
    persistent_secret,
    regular_expression,
    sentry_dsn,
    url_with_scheme,
)

env = Environment.from_process()

_REFERRER_POLICIES = frozenset(
    {
        "no-referrer",
        "no-referrer-when-downgrade",
        "origin",
        "origin-when-cross-origin",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
        "unsafe-url",
    }
)


def _one_of(choices: frozenset[str]) -> Callable[[str], str]:
    def parse(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(value)
        return value.lower()

    return parse


def _not_a_file(value: str) -> str:
    if Path(value).exists() and not Path(value).is_dir():
        raise ValueError(value)
    return value


def _meta_header_name(value: str) -> str:
    if not re.fullmatch(r"HTTP_[A-Z0-9_]+", value):
        raise ValueError(value)
    return value


VERSION = __version__
BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = env.directory("VEXIL_DATA_DIR", "var")

ENV = env.string("ENV", "local").lower()
IS_PRODUCTION = ENV in ("production", "prod")
DEBUG = env.boolean("DJANGO_DEBUG", False)

# --- Secret key ---
if env.is_set("DJANGO_SECRET_KEY"):
    SECRET_KEY = env.string("DJANGO_SECRET_KEY")
elif IS_PRODUCTION:
    raise ConfigurationError("DJANGO_SECRET_KEY", "set when ENV=production")
else:
    # The embedded default: one key generated on first start and shared by every process.
    SECRET_KEY = persistent_secret(DATA_DIR / "secret_key")
# Earlier keys, still accepted (sessions, reset links, two-factor secrets) while moving to a new
# one: Django's SECRET_KEY_FALLBACKS, comma-separated.
SECRET_KEY_FALLBACKS = [k for k in env.string("DJANGO_SECRET_KEY_FALLBACKS").split(",") if k]

# --- Production mode refuses what is only safe on a developer's machine ---
_SECRET_KEY_MIN_LENGTH, _SECRET_KEY_MIN_DISTINCT = 50, 5  # Django's own deployment check
if IS_PRODUCTION:
    if DEBUG:
        raise ConfigurationError("DJANGO_DEBUG", "false (or unset) when ENV=production", "true")
    if (
        len(SECRET_KEY) < _SECRET_KEY_MIN_LENGTH
        or len(set(SECRET_KEY)) < _SECRET_KEY_MIN_DISTINCT
        or SECRET_KEY.startswith("django-insecure-")
    ):
        raise ConfigurationError(
            "DJANGO_SECRET_KEY",
            f"at least {_SECRET_KEY_MIN_LENGTH} random characters when ENV=production; make one "
            "with: python3 -c 'import secrets; print(secrets.token_urlsafe(50))'",
        )
    if not env.is_set("DJANGO_ALLOWED_HOSTS"):
        raise ConfigurationError(
            "DJANGO_ALLOWED_HOSTS",
            "set when ENV=production: the host names clients use (e.g. flags.example.com), "
            "or * to answer for any host",
        )

# --- Hosts, proxies, HTTPS ---
ALLOWED_HOSTS = env.items("DJANGO_ALLOWED_HOSTS", ["*"])
CSRF_TRUSTED_ORIGINS = env.list_of(
    "DJANGO_CSRF_TRUSTED_ORIGINS", origin, "origins such as https://flags.example.com"
)
USE_X_FORWARDED_HOST = env.boolean("USE_X_FORWARDED_HOST", False)
if env.is_set("SECURE_PROXY_SSL_HEADER_NAME"):
    SECURE_PROXY_SSL_HEADER = (
        env.parsed(
            "SECURE_PROXY_SSL_HEADER_NAME",
            _meta_header_name,
            "a header as Django names it, e.g. HTTP_X_FORWARDED_PROTO",
            "",
        ),
        env.string("SECURE_PROXY_SSL_HEADER_VALUE", "https"),
    )
SECURE_SSL_REDIRECT = env.boolean("DJANGO_SECURE_SSL_REDIRECT", False)
SECURE_SSL_HOST = env.parsed("DJANGO_SECURE_SSL_HOST", host_name, "a host name", "") or None
SECURE_REDIRECT_EXEMPT = env.list_of(
    "DJANGO_SECURE_REDIRECT_EXEMPT", regular_expression, "regular expressions", [r"^health/"]
)
SECURE_HSTS_SECONDS = env.integer("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.boolean("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env.boolean("DJANGO_SECURE_HSTS_PRELOAD", False)
SECURE_CONTENT_TYPE_NOSNIFF = env.boolean("DJANGO_SECURE_CONTENT_TYPE_NOSNIFF", True)
SECURE_REFERRER_POLICY = ",".join(
    env.list_of(
        "DJANGO_SECURE_REFERRER_POLICY",
        _one_of(_REFERRER_POLICIES),
        "Referrer-Policy values (" + ", ".join(sorted(_REFERRER_POLICIES)) + ")",
        ["same-origin"],
    )
)
SECURE_CROSS_ORIGIN_OPENER_POLICY = env.choice(
    "DJANGO_SECURE_CROSS_ORIGIN_OPENER_POLICY",
    ("same-origin", "same-origin-allow-popups", "unsafe-none"),
    "same-origin",
)
SESSION_COOKIE_SECURE = env.boolean("DJANGO_SESSION_COOKIE_SECURE", False)
CSRF_COOKIE_SECURE = env.boolean("DJANGO_CSRF_COOKIE_SECURE", False)
ALLOWED_ADMIN_IP_ADDRESSES = env.list_of(
    "ALLOWED_ADMIN_IP_ADDRESSES", ip_network, "IP addresses or networks such as 10.0.0.0/8"
)
CSRF_FAILURE_VIEW = "vexil.common.errors.csrf_failure"

# --- Applications ---
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.sites",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "corsheaders",
    "knox",
    "rest_framework_api_key",  # its abstract key model; its own APIKey table stays empty
    "axes",
    "django_htmx",
    "csp",
    "vexil.common",
    "vexil.users",
    "vexil.organisations",
    "vexil.projects",
    "vexil.environments",
    "vexil.permissions",
    "vexil.audit",
    "vexil.api_keys",
    "vexil.tags",
    "vexil.features",
    "vexil.segments",
    "vexil.identities",
    "vexil.analytics",
    "vexil.importer",
    "vexil.webhooks",
    "vexil.portability",
    "vexil.invites",
    "vexil.dashboard",
]

MIDDLEWARE = [
    # First, so that every log line of a request hides the credentials it carries.
    "vexil.common.logging.RequestSecretsMiddleware",
    "vexil.common.middleware.AdminIPRestrictionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "vexil.common.middleware.NulCharacterMiddleware",
    "vexil.common.middleware.SecureCookiesOverHTTPSMiddleware",
    "csp.middleware.CSPMiddleware",
    *(["django.middleware.gzip.GZipMiddleware"] if env.boolean("ENABLE_GZIP_COMPRESSION") else []),
    "corsheaders.middleware.CorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Each request reads a user's role and grants once (vexil.permissions.selectors).
    "vexil.permissions.middleware.PermissionMemoMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # force_2fa for browser sessions (API tokens: vexil.users.authentication).
    "vexil.dashboard.middleware.TwoFactorEnrolmentMiddleware",
    "vexil.common.middleware.ErrorBodyMiddleware",
    # Last, so it sees the response of a locked-out login and replaces it with ours.
    "axes.middleware.AxesMiddleware",
]
ENABLE_GZIP_COMPRESSION = env.boolean("ENABLE_GZIP_COMPRESSION", False)

ROOT_URLCONF = "vexil.urls"
WSGI_APPLICATION = "vexil.wsgi.application"
AUTH_USER_MODEL = "users.User"
SITE_ID = 1
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---
_SQLITE_OPTIONS = {
    # WAL lets readers proceed during a write; IMMEDIATE takes the write lock up front so two
    # writers queue on the busy timeout instead of failing with "database is locked".
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    "transaction_mode": "IMMEDIATE",
    "timeout": 20,
}


def _database_from_url(url: str) -> dict[str, object]:
    url = url_with_scheme("sqlite", "postgres", "postgresql", "pgsql")(url)
    config: dict[str, object] = dict(dj_database_url.parse(url, conn_max_age=60))
    return config


DATABASES: dict[str, dict[str, object]]
if env.is_set("DATABASE_URL"):
    DATABASES = {
        "default": env.parsed(
            "DATABASE_URL",
            _database_from_url,
            "a sqlite:///PATH or postgres://USER:PASSWORD@HOST:PORT/NAME URL",
            dict[str, object](),
        )
    }
elif env.is_set("DJANGO_DB_NAME") or env.is_set("DJANGO_DB_HOST"):
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": env.string("DJANGO_DB_NAME", "vexil"),
            "USER": env.string("DJANGO_DB_USER", "postgres"),
            "PASSWORD": env.string("DJANGO_DB_PASSWORD"),
            "HOST": env.string("DJANGO_DB_HOST", "localhost"),
            "PORT": str(env.integer("DJANGO_DB_PORT", 5432, minimum=1)),
            "CONN_MAX_AGE": 60,
        }
    }
else:
    # The embedded default; SQLite creates the file but not the directory.
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "vexil.sqlite3"),
        }
    }
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = _SQLITE_OPTIONS
    DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# --- Cache ---
REDIS_URL = env.parsed(
    "REDIS_URL",
    url_with_scheme("redis", "rediss", "unix"),
    "a redis://HOST:PORT/DB URL",
    "",
)
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "vexil",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# --- Background work ---
CELERY_BROKER_URL = env.parsed(
    "CELERY_BROKER_URL",
    url_with_scheme("redis", "rediss"),
    "a redis://HOST:PORT/DB URL",
    "",
)
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True


# --- Webhooks and every other outbound request (docs/webhooks.md) ---
def _networks(value: str) -> list[str]:
    return [str(ipaddress.ip_network(item.strip())) for item in value.split(",") if item.strip()]


def _delays(value: str) -> list[float]:
    delays = [float(item) for item in value.split(",") if item.strip()]
    if any(delay < 0 for delay in delays):
        raise ValueError(value)
    return delays


VEXIL_WEBHOOK_ALLOWED_NETWORKS: list[str] = env.parsed(
    "VEXIL_WEBHOOK_ALLOWED_NETWORKS", _networks, "comma-separated CIDR networks", []
)


def _ca_bundle(value: str) -> str:
    if not Path(value).is_file():
        raise ValueError(value)
    return value


# Extra certificate authorities that outbound HTTPS trusts, besides the system's (an internal CA).
VEXIL_OUTBOUND_CA_BUNDLE: str = env.parsed(
    "VEXIL_OUTBOUND_CA_BUNDLE", _ca_bundle, "the path of a PEM file of CA certificates", ""
)
VEXIL_WEBHOOK_TIMEOUT_SECONDS = env.number("VEXIL_WEBHOOK_TIMEOUT_SECONDS", 10.0, minimum=0.1)
VEXIL_WEBHOOK_RETRY_DELAYS = env.parsed(
    "VEXIL_WEBHOOK_RETRY_DELAYS",
    _delays,
    "comma-separated seconds >= 0",
    [5.0, 30.0, 120.0, 600.0, 1800.0, 3600.0, 7200.0, 14400.0, 28800.0, 28800.0],
)
VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES = env.integer(
    "VEXIL_WEBHOOK_DISABLE_AFTER_FAILURES", 5, minimum=1
)
VEXIL_WEBHOOK_LOG_RETENTION_DAYS = env.integer("VEXIL_WEBHOOK_LOG_RETENTION_DAYS", 30, minimum=1)
VEXIL_WEBHOOK_POLL_SECONDS = env.number("VEXIL_WEBHOOK_POLL_SECONDS", 5.0, minimum=0.05)
# With Celery: how often the worker looks for pending deliveries overdue by that long (a task the
# broker lost) and sends their task again.
VEXIL_WEBHOOK_SWEEP_SECONDS = env.number("VEXIL_WEBHOOK_SWEEP_SECONDS", 60.0, minimum=0.1)
# Without a Celery broker, each server process delivers from the outbox table on a thread of its
# own. Tests turn it off and deliver synchronously (vexil.webhooks.delivery.run_due).
VEXIL_WEBHOOK_IN_PROCESS_WORKER = True

# --- E-mail (Flagsmith's variable names and SMTP defaults) ---
EMAIL_BACKEND = env.parsed(
    "EMAIL_BACKEND",
    dotted_path,
    "the dotted path of an e-mail backend class",
    "django.core.mail.backends.smtp.EmailBackend"
    if env.is_set("EMAIL_HOST")
    else "vexil.common.mail.ConsoleEmailBackend",
)
EMAIL_HOST = env.string("EMAIL_HOST", "localhost")
EMAIL_HOST_USER = env.string("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env.string("EMAIL_HOST_PASSWORD")
EMAIL_USE_SSL = env.boolean("EMAIL_USE_SSL", False)
EMAIL_USE_TLS = env.boolean("EMAIL_USE_TLS", not EMAIL_USE_SSL)
if EMAIL_USE_TLS and EMAIL_USE_SSL:
    raise ConfigurationError("EMAIL_USE_TLS", "false when EMAIL_USE_SSL is true", "true")
EMAIL_PORT = env.integer("EMAIL_PORT", 465 if EMAIL_USE_SSL else 587, minimum=1)
EMAIL_TIMEOUT = env.integer("EMAIL_TIMEOUT", 10, minimum=1)
EMAIL_FILE_PATH = env.parsed(
    "EMAIL_FILE_PATH", _not_a_file, "a directory path (not a file)", str(DATA_DIR / "mail")
)
DEFAULT_FROM_EMAIL = env.parsed(
    "SENDER_EMAIL",
    email_address,
    "an e-mail address, optionally as Name <address>",
    "noreply@vexil.local",
)
SERVER_EMAIL = DEFAULT_FROM_EMAIL
# Delivery from the outbox (vexil.common.mail): attempts per message, and the first wait between
# them (doubling each time).
EMAIL_MAX_ATTEMPTS = env.integer("EMAIL_MAX_ATTEMPTS", 5, minimum=1)
EMAIL_RETRY_BACKOFF_SECONDS = env.number("EMAIL_RETRY_BACKOFF_SECONDS", 2.0, minimum=0.0)
# Every server process re-delivers, at start and then this often, messages a crash left
# queued or half-sent (vexil.common.mail.email_outbox_sweep); 0 turns it off.
EMAIL_OUTBOX_SWEEP_SECONDS = env.number("EMAIL_OUTBOX_SWEEP_SECONDS", 300.0, minimum=0.0)


# --- The public base URL of every link in an e-mail ---
def _public_url(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(value)
    return f"{parts.scheme}://{parts.netloc}{parts.path}".rstrip("/")


def _flagsmith_domain(value: str) -> str:
    """Flagsmith's FLAGSMITH_DOMAIN is a host (and port): https, but http for a loopback host."""
    value = value.strip().rstrip("/")
    if "://" in value:
        return _public_url(value)
    host = urlsplit(f"//{value}").hostname or ""
    scheme = "http" if host in ("localhost", "127.0.0.1", "::1") else "https"
    return _public_url(f"{scheme}://{value}")


PUBLIC_URL = env.parsed(
    "VEXIL_PUBLIC_URL",
    _public_url,
    "an http(s) URL such as https://flags.example.com",
    env.parsed("FLAGSMITH_DOMAIN", _flagsmith_domain, "a host name such as flags.example.com", ""),
)

# --- Auth ---
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Axes first: it refuses a locked-out client before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend plus a growing delay per account (vexil.users.limits).
    "vexil.users.backends.DelayedModelBackend",
]

# User tokens (django-rest-knox): stored as SHA-512 digests, `Authorization: Token <key>`.
# 0 means tokens never expire (they still end at logout or password change).
AUTH_TOKEN_TTL_HOURS = env.integer("AUTH_TOKEN_TTL_HOURS", 720, minimum=0)
REST_KNOX = {
    "AUTH_HEADER_PREFIX": "Token",
    "TOKEN_TTL": timedelta(hours=AUTH_TOKEN_TTL_HOURS) if AUTH_TOKEN_TTL_HOURS else None,
    "TOKEN_LIMIT_PER_USER": None,
    "AUTO_REFRESH": False,
}

# Registration (Flagsmith's names): without an invite (or not at all).
ALLOW_REGISTRATION_WITHOUT_INVITE = env.boolean("ALLOW_REGISTRATION_WITHOUT_INVITE", True)
PREVENT_SIGNUP = env.boolean("PREVENT_SIGNUP", False)
# Invites (vexil.invites): e-mail invites' lifetime; Flagsmith's switch for invite links; an
# optional seat limit per organisation (members plus pending e-mail invites; 0 = no limit).
INVITE_EXPIRY_DAYS = env.integer("INVITE_EXPIRY_DAYS", 7, minimum=1)
DISABLE_INVITE_LINKS = env.boolean("DISABLE_INVITE_LINKS", False)
MAX_SEATS_PER_ORGANISATION = env.integer("MAX_SEATS_PER_ORGANISATION", 0, minimum=0)
USER_CREATE_PERMISSIONS = env.list_of(
    "USER_CREATE_PERMISSIONS",
    dotted_path,
    "permission class paths",
    ["rest_framework.permissions.AllowAny"],
)


# Single sign-on with OpenID Connect (docs/accounts.md#single-sign-on-openid-connect): off unless
# OIDC_ISSUER is set. The issuer is compared exactly with the ID token's `iss`, so it is kept as
# given (a trailing slash matters to some providers).
def _issuer(value: str) -> str:
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(value)
    return value.strip()


def _email_domain(value: str) -> str:
    domain = value.strip().lower().lstrip("@")
    if not domain or "@" in domain or " " in domain:
        raise ValueError(value)
    return domain


OIDC_ISSUER = env.parsed("OIDC_ISSUER", _issuer, "an http(s) issuer URL", "")
OIDC_CLIENT_ID = env.string("OIDC_CLIENT_ID")
OIDC_CLIENT_SECRET = env.string("OIDC_CLIENT_SECRET")
OIDC_SCOPES = env.string("OIDC_SCOPES", "openid email profile").split()
OIDC_ALLOWED_EMAIL_DOMAINS = env.list_of(
    "OIDC_ALLOWED_EMAIL_DOMAINS", _email_domain, "e-mail domains such as example.com", []
)
OIDC_CREATE_USERS = env.boolean("OIDC_CREATE_USERS", False)
OIDC_NEW_USER_ORGANISATION = env.integer("OIDC_NEW_USER_ORGANISATION", 0, minimum=0)
OIDC_NEW_USER_ROLE = env.choice("OIDC_NEW_USER_ROLE", ("user", "admin"), "user").upper()
if OIDC_ISSUER and not OIDC_CLIENT_ID:
    raise ConfigurationError("OIDC_CLIENT_ID", "set when OIDC_ISSUER is set")
if OIDC_ISSUER and "openid" not in OIDC_SCOPES:
    raise ConfigurationError("OIDC_SCOPES", "a space-separated list that includes openid")
# Flagsmith's name: refuse e-mail and password sign-in (API and dashboard); SSO remains.
PREVENT_EMAIL_PASSWORD = env.boolean("PREVENT_EMAIL_PASSWORD", False)

# Password reset (Flagsmith's names): token lifetime, and e-mails per address per cool-down.
PASSWORD_RESET_TIMEOUT = env.integer("PASSWORD_RESET_TIMEOUT", 3 * 24 * 3600, minimum=60)
MAX_PASSWORD_RESET_EMAILS = env.integer("MAX_PASSWORD_RESET_EMAILS", 5, minimum=1)
PASSWORD_RESET_EMAIL_COOLDOWN = env.integer("PASSWORD_RESET_EMAIL_COOLDOWN", 86400, minimum=1)
# Sign-up: how long the e-mailed confirmation link works (the account is made when it is followed).
SIGN_UP_CONFIRMATION_TIMEOUT = env.integer("SIGN_UP_CONFIRMATION_TIMEOUT", 86400, minimum=60)

# Brute-force protection (django-axes): lock a client IP out after AXES_FAILURE_LIMIT failures.
AXES_ENABLED = env.boolean("AXES_ENABLED", True)
AXES_FAILURE_LIMIT = env.integer("AXES_FAILURE_LIMIT", 10, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env.number("AXES_COOLOFF_MINUTES", 30.0)) or None


def _lockout_parameters(value: str) -> list[str | list[str]]:
    """``ip_address,username`` locks by either; ``username+ip_address`` by the combination."""
    parameters: list[str | list[str]] = []
    for item in (part.strip() for part in value.split(",") if part.strip()):
        names = item.split("+")
        if any(name not in ("ip_address", "username", "user_agent") for name in names):
            raise ValueError(item)
        parameters.append(names if len(names) > 1 else names[0])
    if not parameters:
        raise ValueError(value)
    return parameters


AXES_LOCKOUT_PARAMETERS = env.parsed(
    "AXES_LOCKOUT_PARAMETERS",
    _lockout_parameters,
    "a comma-separated list of ip_address, username, user_agent (join with + to combine)",
    list[str | list[str]](["ip_address"]),
)
AXES_RESET_ON_SUCCESS = True
# Attempts refused during a lock-out do not restart it: the lock-out ends AXES_COOLOFF_MINUTES
# after the last real failure, and Retry-After counts down to that moment.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
# Per account (any client address): after this many failed logins each further failure doubles
# the wait before the next attempt, from LOGIN_ACCOUNT_DELAY_SECONDS up to ..._MAX_SECONDS. A
# delay, not a lock: a guesser crawls, and the real user is never shut out for long.
LOGIN_ACCOUNT_FREE_FAILURES = env.integer("LOGIN_ACCOUNT_FREE_FAILURES", 5, minimum=1)
LOGIN_ACCOUNT_DELAY_SECONDS = env.number("LOGIN_ACCOUNT_DELAY_SECONDS", 1.0, minimum=0.0)
LOGIN_ACCOUNT_DELAY_MAX_SECONDS = env.number("LOGIN_ACCOUNT_DELAY_MAX_SECONDS", 300.0, minimum=0.0)
AXES_USERNAME_FORM_FIELD = "email"
AXES_HTTP_RESPONSE_CODE = 429
AXES_LOCKOUT_CALLABLE = "vexil.users.lockout.lockout_response"
AXES_VERBOSE = False

# --- Dashboard (server-rendered pages at /) ---
LOGIN_URL = "dashboard:sign-in"
LOGIN_REDIRECT_URL = "dashboard:home"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
# No inline script, style or eval anywhere: htmx is configured by a meta tag, with eval off.
_SELF, _NONE = "'self'", "'none'"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [_SELF],
        "script-src": [_SELF],
        "style-src": [_SELF],
        "img-src": [_SELF, "data:"],
        "connect-src": [_SELF],
        "font-src": [_SELF],
        "object-src": [_NONE],
        "base-uri": [_SELF],
        "form-action": [_SELF],
        "frame-ancestors": [_NONE],
    }
}
# How often the features page asks whether the environment changed (seconds).
DASHBOARD_POLL_SECONDS = env.number("DASHBOARD_POLL_SECONDS", 3.0, minimum=0.5)

# --- Internationalisation & static ---
LANGUAGE_CODE = "en-gb"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = DATA_DIR / "static"

# --- REST framework ---
_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def _throttle_rate(value: str) -> str:
    if not _RATE.match(value):
        raise ValueError(value)
    return value


PASSWORD_RESET_THROTTLE_RATE = env.parsed(
    "PASSWORD_RESET_THROTTLE_RATE",
    _throttle_rate,
    "a rate such as 10/hour (per second, min, hour, day)",
    "10/hour",
)
AUTH_THROTTLE_RATE = env.parsed(
    "AUTH_THROTTLE_RATE",
    _throttle_rate,
    "a rate such as 10/min (per second, min, hour, day)",
    "10/min",
)
INVITE_THROTTLE_RATE = env.parsed(
    "INVITE_THROTTLE_RATE",
    _throttle_rate,
    "a rate such as 10/min (per second, min, hour, day)",
    "10/min",
)

REST_FRAMEWORK = {
    # The first class names the 401 challenge (`WWW-Authenticate: Token`).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "vexil.users.authentication.TokenAuthentication",
        "vexil.api_keys.authentication.MasterAPIKeyAuthentication",
        "rest_framework.authentication.SessionAuthentication",
        # Last: a header none of the above recognised is refused, naming the accepted schemes.
        "vexil.common.authentication.UnrecognisedSchemeAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "vexil.common.parsers.JSONParser",
        "vexil.common.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "vexil.common.negotiation.BrowsableForTrustedNegotiation",
    "DEFAULT_PAGINATION_CLASS": "vexil.common.pagination.PageNumberPagination",
    "PAGE_SIZE": 10,
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "vexil.common.errors.exception_handler",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "DEFAULT_THROTTLE_RATES": {
        "auth": AUTH_THROTTLE_RATE,
        "password_reset": PASSWORD_RESET_THROTTLE_RATE,
        "invite": INVITE_THROTTLE_RATE,
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Vexil API",
    "DESCRIPTION": "Feature flags and remote configuration, wire-compatible with Flagsmith.",
    "VERSION": __version__,
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        # The SDK endpoints, served in front of Django (vexil.sdk), described statically.
        "vexil.common.openapi.add_sdk_endpoints",
        # The error responses every management operation can give, in the one error shape.
        "vexil.common.openapi.add_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "ProjectPermissionEnum": "vexil.permissions.keys.ProjectPermission",
        "EnvironmentPermissionEnum": "vexil.permissions.keys.EnvironmentPermission",
        "OrganisationRoleEnum": "vexil.organisations.models.OrganisationRole",
        "EmailStatusEnum": "vexil.common.models.OutboundEmail.Status",
        "FileStatusEnum": "vexil.portability.models.FileStatus",
        "DeliveryStatusEnum": "vexil.webhooks.models.DeliveryStatus",
    },
}

# --- CORS (management API; the SDK endpoints set their own) ---
CORS_ALLOWED_ORIGINS = env.list_of(
    "DJANGO_CORS_ALLOWED_ORIGINS", origin, "origins such as https://app.example.com"
)
CORS_URLS_REGEX = r"^/api/.*$"

# --- SDK endpoints (the hot path) ---
# How often each process re-reads environment revisions and keys (changes made through another
# process become visible within this many seconds).
VEXIL_SDK_REFRESH_SECONDS = env.number("VEXIL_SDK_REFRESH_SECONDS", 0.5, minimum=0.05)
# Readiness fails (503) in a process whose SDK view has not been refreshed for this long
VEXIL_SDK_MAX_STALENESS_SECONDS = env.number("VEXIL_SDK_MAX_STALENESS_SECONDS", 10.0, minimum=1)
VEXIL_SDK_THREADS = env.integer("VEXIL_SDK_THREADS", 8, minimum=1)
VEXIL_SDK_IDENTITY_CACHE_MB = env.integer("VEXIL_SDK_IDENTITY_CACHE_MB", 64, minimum=0)
VEXIL_SDK_PREPARED_STATEMENTS = env.boolean("VEXIL_SDK_PREPARED_STATEMENTS", True)
VEXIL_OFREP_RATE_LIMIT = env.parsed(
    "VEXIL_OFREP_RATE_LIMIT",
    _throttle_rate,
    "a rate such as 1000/s (per second, min, hour, day)",
    "",
)
VEXIL_ANALYTICS_FLUSH_SECONDS = env.number("VEXIL_ANALYTICS_FLUSH_SECONDS", 10.0, minimum=0.1)
# Real-time streams (docs/realtime.md): open streams per process beyond which new ones get a 503,
# and the idle seconds after which a stream sends a keep-alive comment.
VEXIL_STREAMS_MAX = env.integer("VEXIL_STREAMS_MAX", 10_000, minimum=0)
VEXIL_STREAMS_HEARTBEAT_SECONDS = env.number("VEXIL_STREAMS_HEARTBEAT_SECONDS", 15.0, minimum=0.1)
# --- The server of `vexil serve` (its --host, --port and --workers options win) ---
PORT_MAX = 65535


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= PORT_MAX:
        raise ValueError(value)
    return port


SERVE_HOST = env.parsed("VEXIL_HOST", host_name, "an IP address or a host name", "127.0.0.1")
SERVE_PORT = env.parsed("VEXIL_PORT", _port, f"an integer from 1 to {PORT_MAX}", 8000)
SERVE_WORKERS = env.integer("VEXIL_WORKERS", 2, minimum=1)

# --- Logging ---
LOG_LEVEL: str = env.choice("LOG_LEVEL", ("debug", "info", "warning", "error", "critical"), "info")
LOG_FORMAT: str = env.choice("LOG_FORMAT", ("generic", "json"), "generic")
ACCESS_LOG_LOCATION = env.parsed(
    "ACCESS_LOG_LOCATION", file_path, "- (stdout) or a file path in an existing directory", ""
)
# Identical warnings/errors beyond this many per window are counted, not written.
LOG_REPEAT_LIMIT = env.integer("LOG_REPEAT_LIMIT", 5, minimum=1)
LOG_REPEAT_WINDOW_SECONDS = env.number("LOG_REPEAT_WINDOW_SECONDS", 60.0, minimum=0.0)
LOGGING_CONFIG = None  # vexil.common.logging configures logging once, in vexil.apps start-up
logging.getLogger("vexil").setLevel(LOG_LEVEL.upper())

# --- Error reporting ---
SENTRY_SDK_DSN = env.parsed(
    "SENTRY_SDK_DSN", sentry_dsn, "a Sentry DSN such as https://KEY@HOST/PROJECT_ID", ""
)
SENTRY_TRACES_SAMPLE_RATE = env.number("SENTRY_TRACES_SAMPLE_RATE", 0.0, maximum=1.0)
