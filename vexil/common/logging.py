"""Structured logging: one configuration for Vexil, Django, Celery and the server's access log.

Three rules hold for every line, in every mode (generic or JSON, with or without ``rich``):

- **No local variables in tracebacks.** structlog's console renderer shows them when ``rich`` is
  installed (a development install has it); they printed request objects, keys and passwords.
- **Secrets are redacted** from the rendered line: credentials of the current request (header
  values and password-like body fields, collected by :class:`RequestSecretsMiddleware` and
  :func:`asgi_secrets_scope`) and anything that looks like a credential (``Authorization``
  values, server keys, ``password=...``).
- **Repeated identical errors are rate-limited** (:class:`RepeatedRecordFilter`), so an outage
  logs each distinct failure a few times per window and then a count, not a traceback per request.
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import logging.config
import re
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator
from typing import Any

import structlog
from django.conf import settings
from django.http import HttpRequest, HttpResponse

REDACTED = "[redacted]"

# Shorter values are not worth hiding and would mangle unrelated words of the log line.
_MIN_SECRET_LENGTH = 4
_SECRET_HEADERS = frozenset(
    {"authorization", "x-environment-key", "x-api-key", "cookie", "proxy-authorization"}
)
# Body fields whose values are credentials (the login, reset, 2FA and set-password bodies).
_SECRET_FIELD = re.compile(r"(password|token|secret|api[_-]?key|^key$|^code$|otp)", re.IGNORECASE)
_MAX_BODY_TO_SCAN = 64 * 1024
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")

# Anything that looks like a credential, wherever it appears in a line.
_CREDENTIAL_NAMES = (
    r"(?:[\w-]*password|passwd|[\w-]*secret|[\w-]*token|[\w-]*api[_-]?key|authorization"
    r"|x-environment-key|cookie|sessionid|csrftoken|ephemeral_token)"
)
_PATTERNS = (
    # name=value, name: value, 'name': 'value', "name": "value" (quotes kept, value replaced;
    # an Authorization scheme goes with its value)
    re.compile(
        rf"(?i)([\"']?\b{_CREDENTIAL_NAMES}[\"']?\s*[=:]\s*)([\"']?)"
        r"(?:(?:Token|Api-Key|Bearer|Basic)\s+)?[^\s\"',;&}\]]+",
    ),
    # Token abc / Api-Key abc / Bearer abc / Basic abc
    re.compile(r"(?i)\b(Token|Api-Key|Bearer|Basic)(\s+)[A-Za-z0-9._~+/=-]{16,}"),
    # Server-side environment keys.
    re.compile(r"()()\bser\.[A-Za-z0-9]{8,}"),
)

_request_secrets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "vexil_request_secrets", default=()
)
_asgi_headers: contextvars.ContextVar[Any] = contextvars.ContextVar(
    "vexil_asgi_headers", default=None
)


def redact(text: str) -> str:
    """``text`` with the current request's credentials and credential-like values replaced."""
    for secret in (*_request_secrets.get(), *_asgi_header_secrets()):
        if len(secret) >= _MIN_SECRET_LENGTH:
            text = text.replace(secret, REDACTED)
    for pattern in _PATTERNS:
        text = pattern.sub(lambda match: f"{match.group(1)}{match.group(2)}{REDACTED}", text)
    return text


@contextlib.contextmanager
def secrets_scope(values: Iterable[str]) -> Iterator[None]:
    """Redact ``values`` from every log line written in this context (a request, a task)."""
    kept = tuple(v for v in values if isinstance(v, str) and len(v) >= _MIN_SECRET_LENGTH)
    token = _request_secrets.set(_request_secrets.get() + kept)
    try:
        yield
    finally:
        _request_secrets.reset(token)


def _header_secrets(headers: Iterable[tuple[str, str]]) -> list[str]:
    """Values of credential headers: whole, without their scheme, and each cookie's value."""
    found = []
    for name, value in headers:
        name = name.lower()
        if name not in _SECRET_HEADERS:
            continue
        found.append(value)
        if name == "cookie":
            found.extend(part.partition("=")[2].strip() for part in value.split(";"))
        else:
            found.append(value.rsplit(None, 1)[-1] if value.strip() else "")
    return found


def _body_secrets(body: bytes, content_type: str) -> list[str]:
    if not body or len(body) > _MAX_BODY_TO_SCAN or "json" not in content_type:
        return []
    found: list[str] = []
    try:
        _collect_fields(json.loads(body), found)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to walk: the API refuses it
        return []
    return found


def _collect_fields(data: Any, found: list[str]) -> None:
    if isinstance(data, dict):
        for name, value in data.items():
            if isinstance(value, str) and _SECRET_FIELD.search(str(name)):
                found.append(value)
            else:
                _collect_fields(value, found)
    elif isinstance(data, list):
        for item in data:
            _collect_fields(item, found)


class RequestSecretsMiddleware:
    """Registers the credentials a Django request carries, so no log line of it shows them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        found = _header_secrets(request.headers.items())
        if request.method in ("POST", "PUT", "PATCH"):
            found += _body_secrets(_body(request), request.content_type or "")
            if request.content_type in _FORM_TYPES:
                found += [str(v) for k, v in request.POST.items() if _SECRET_FIELD.search(k)]
        with secrets_scope(found):
            return self.get_response(request)


def _body(request: HttpRequest) -> bytes:
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > _MAX_BODY_TO_SCAN:
        return b""
    try:
        return request.body
    except Exception:  # a body Django refuses to read is answered by Django itself, later
        return b""


ASGIApp = Callable[[Any, Any, Any], Awaitable[None]]


def asgi_secrets_scope(app: ASGIApp) -> ASGIApp:
    """Wrap an ASGI app so every log line of a request hides the credentials in its headers.

    The headers are only remembered here (one context variable per request, on the hot path);
    they are read when, and only if, a line is written.
    """

    async def wrapped(scope: Any, receive: Any, send: Any) -> None:
        token = _asgi_headers.set(scope.get("headers"))
        try:
            await app(scope, receive, send)
        finally:
            _asgi_headers.reset(token)

    return wrapped


def _asgi_header_secrets() -> list[str]:
    raw = _asgi_headers.get()
    if not raw:
        return []
    return _header_secrets((name.decode("latin-1"), value.decode("latin-1")) for name, value in raw)


class RepeatedRecordFilter(logging.Filter):
    """Lets through ``limit`` identical warnings or errors per ``window`` seconds.

    Identical means the same logger, level, message template and exception type and place. The
    first record after a window with suppressed copies says how many were dropped. Records are
    dropped before they are formatted, so an outage costs neither disk nor CPU per request.
    """

    def __init__(self, limit: int = 5, window: float = 60.0) -> None:
        super().__init__()
        self.limit = limit
        self.window = window
        self._lock = threading.Lock()
        self._seen: dict[tuple[Any, ...], list[float]] = {}  # key -> [window start, count, dropped]

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING:
            return True
        key = _record_key(record)
        now = time.monotonic()
        with self._lock:
            state = self._seen.get(key)
            if state is None or now - state[0] >= self.window:
                dropped = int(state[2]) if state else 0
                self._seen[key] = [now, 1, 0]
                if len(self._seen) > 10_000:  # many distinct errors: forget the oldest windows
                    self._forget_before(now - self.window)
                if dropped:
                    record.suppressed = dropped
                return True
            state[1] += 1
            if state[1] <= self.limit:
                return True
            state[2] += 1
            return False

    def _forget_before(self, oldest: float) -> None:
        for key in [k for k, state in self._seen.items() if state[0] < oldest]:
            del self._seen[key]


def _record_key(record: logging.LogRecord) -> tuple[Any, ...]:
    place: tuple[Any, ...] = ()
    if record.exc_info and record.exc_info[1] is not None:
        error = record.exc_info[1]
        tb = error.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = (tb.tb_frame.f_code.co_filename, tb.tb_lineno) if tb else ()
        place = (type(error).__qualname__, *where)
    return (record.name, record.levelno, str(record.msg), record.pathname, record.lineno, *place)


def _suppressed_count(logger: Any, method_name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    record = event_dict.get("_record")
    dropped = getattr(record, "suppressed", 0)
    if dropped:
        event_dict["suppressed_repeats"] = dropped
    return event_dict


class RedactingProcessorFormatter(structlog.stdlib.ProcessorFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


_SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def _renderers(log_format: str) -> list[Any]:
    if log_format == "json":
        # format_exc_info renders the plain traceback as text: no local variables.
        return [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
    return [
        structlog.dev.ConsoleRenderer(
            colors=False, exception_formatter=structlog.dev.plain_traceback
        )
    ]


def logging_dict_config(log_level: str, log_format: str, access_log: str = "") -> dict[str, Any]:
    """The ``logging.config.dictConfig`` shared by Django processes and the server's workers."""
    level = log_level.upper()
    config: dict[str, Any] = {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {
            "repeats": {
                "()": RepeatedRecordFilter,
                "limit": getattr(settings, "LOG_REPEAT_LIMIT", 5),
                "window": getattr(settings, "LOG_REPEAT_WINDOW_SECONDS", 60.0),
            },
        },
        "formatters": {
            "structured": {
                "()": RedactingProcessorFormatter,
                "processors": [
                    _suppressed_count,
                    structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                    *_renderers(log_format),
                ],
                "foreign_pre_chain": _SHARED_PROCESSORS,
            },
            "access": {"()": RedactingFormatter, "format": "%(message)s"},
        },
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "stream": sys.stderr,
                "formatter": "structured",
                "filters": ["repeats"],
            },
        },
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.server": {"level": "WARNING"},
            "granian.access": {"handlers": [], "level": "INFO", "propagate": False},
        },
    }
    if access_log:
        config["handlers"]["access"] = (
            {"class": "logging.StreamHandler", "stream": sys.stdout, "formatter": "access"}
            if access_log == "-"
            else {"class": "logging.FileHandler", "filename": access_log, "formatter": "access"}
        )
        config["loggers"]["granian.access"]["handlers"] = ["access"]
    return config


def configure() -> None:
    logging.config.dictConfig(
        logging_dict_config(settings.LOG_LEVEL, settings.LOG_FORMAT, settings.ACCESS_LOG_LOCATION)
    )
    structlog.configure(
        processors=[*_SHARED_PROCESSORS, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
