"""Typed, strict reading of configuration from the environment (12-factor).

Every variable Vexil reads goes through an :class:`Environment` so that a malformed value stops
start-up with a message naming the variable and what was expected, instead of a traceback deep
inside Django. ``docs/configuration.md`` lists every variable; keep the two in step.

Values come from the process environment and, when ``VEXIL_CONFIG_FILE`` names one, from an
env-format file. Real environment variables win over the file.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from email.utils import parseaddr
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from dotenv import dotenv_values

T = TypeVar("T")

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off", ""})


class ConfigurationError(ImproperlyConfigured):
    """A configuration variable is missing or malformed; the message names it."""

    def __init__(self, name: str, expected: str, got: str | None = None) -> None:
        self.variable = name
        detail = f"{name} must be {expected}"
        if got is not None:
            detail += f" (got {got!r})"
        super().__init__(detail)


class Environment:
    """A read-only view of configuration values with typed accessors."""

    def __init__(self, values: Mapping[str, str]) -> None:
        self._values = dict(values)

    @classmethod
    def from_process(cls, environ: Mapping[str, str] | None = None) -> Environment:
        """Merge ``VEXIL_CONFIG_FILE`` (if set) under the real environment."""
        environ = os.environ if environ is None else environ
        merged: dict[str, str] = {}
        config_file = environ.get("VEXIL_CONFIG_FILE", "").strip()
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise ConfigurationError(
                    "VEXIL_CONFIG_FILE", "the path of a readable env-format file", config_file
                )
            merged.update({k: v for k, v in dotenv_values(path).items() if v is not None})
        merged.update(environ)
        return cls(merged)

    def is_set(self, name: str) -> bool:
        return self._values.get(name, "").strip() != ""

    def string(self, name: str, default: str = "") -> str:
        value = self._values.get(name)
        return default if value is None or value.strip() == "" else value.strip()

    def boolean(self, name: str, default: bool = False) -> bool:
        if not self.is_set(name):
            return default
        raw = self._values[name].strip().lower()
        if raw in _TRUE:
            return True
        if raw in _FALSE:
            return False
        raise ConfigurationError(name, "a boolean (true/false, 1/0, yes/no, on/off)", raw)

    def integer(self, name: str, default: int, *, minimum: int | None = None) -> int:
        if not self.is_set(name):
            return default
        raw = self._values[name].strip()
        try:
            value = int(raw)
        except ValueError:
            raise ConfigurationError(name, "an integer", raw) from None
        if minimum is not None and value < minimum:
            raise ConfigurationError(name, f"an integer >= {minimum}", raw)
        return value

    def number(
        self, name: str, default: float, *, minimum: float = 0.0, maximum: float | None = None
    ) -> float:
        if not self.is_set(name):
            return default
        raw = self._values[name].strip()
        try:
            value = float(raw)
        except ValueError:
            raise ConfigurationError(name, "a number", raw) from None
        if value != value or value < minimum or (maximum is not None and value > maximum):  # NaN
            bounds = f"from {minimum} to {maximum}" if maximum is not None else f">= {minimum}"
            raise ConfigurationError(name, f"a number {bounds}", raw)
        return value

    def directory(self, name: str, default: str) -> Path:
        """A directory Vexil writes to; created (with its parents) when missing."""
        raw = self.string(name, default)
        path = Path(raw).resolve()
        if path.exists() and not path.is_dir():
            raise ConfigurationError(name, "a directory, not a file", raw)
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise ConfigurationError(
                name, f"a directory Vexil can create ({error.strerror})", raw
            ) from None
        if not os.access(path, os.W_OK | os.X_OK):
            raise ConfigurationError(name, "a directory Vexil can write to", raw)
        return path

    def list_of(
        self, name: str, parse: Callable[[str], T], expected: str, default: list[T] | None = None
    ) -> list[T]:
        """A comma-separated list whose every item goes through ``parse``."""
        items = self.items(name)
        if not items:
            return list(default or [])
        parsed: list[T] = []
        for item in items:
            try:
                parsed.append(parse(item))
            except Exception:
                raise ConfigurationError(
                    name, f"a comma-separated list of {expected}", item
                ) from None
        return parsed

    def items(self, name: str, default: list[str] | None = None) -> list[str]:
        """A comma-separated list; blanks are dropped."""
        if not self.is_set(name):
            return list(default or [])
        return [item.strip() for item in self._values[name].split(",") if item.strip()]

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.string(name, default).lower()
        if value not in choices:
            raise ConfigurationError(name, "one of " + ", ".join(choices), value)
        return value

    def parsed(self, name: str, parse: Callable[[str], T], expected: str, default: T) -> T:
        """Apply ``parse``; any exception becomes a ConfigurationError naming ``name``."""
        if not self.is_set(name):
            return default
        raw = self._values[name].strip()
        try:
            return parse(raw)
        except Exception:
            raise ConfigurationError(name, expected, raw) from None


def url_with_scheme(*schemes: str) -> Callable[[str], str]:
    """A parser for :meth:`Environment.parsed` that accepts URLs of the given schemes only."""
    prefixes = tuple(f"{scheme}:" for scheme in schemes)

    def parse(value: str) -> str:
        if not value.startswith(prefixes):
            raise ValueError(value)
        return value

    return parse


def origin(value: str) -> str:
    """``scheme://host[:port]``, as CSRF and CORS origins are written."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.path not in ("", "/"):
        raise ValueError(value)
    return value.rstrip("/")


def regular_expression(value: str) -> str:
    re.compile(value)
    return value


def ip_network(value: str) -> str:
    ipaddress.ip_network(value, strict=False)
    return value


def dotted_path(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)+", value):
        raise ValueError(value)
    return value


def email_address(value: str) -> str:
    """``user@host`` or ``Name <user@host>``."""
    _, address = parseaddr(value)
    local, _, domain = address.rpartition("@")
    if not local or not domain or " " in address:
        raise ValueError(value)
    return value


def host_name(value: str) -> str:
    """An IP address or a host name (what a server can listen on)."""
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not re.fullmatch(r"[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?", value):
            raise
    return value


def sentry_dsn(value: str) -> str:
    """``https://PUBLIC_KEY@HOST/PROJECT_ID``, the form Sentry shows for a project."""
    parts = urlsplit(value)
    project = parts.path.rsplit("/", 1)[-1]
    if parts.scheme not in ("http", "https") or not parts.username or not parts.hostname:
        raise ValueError(value)
    if not project.isdigit():
        raise ValueError(value)
    return value


def file_path(value: str) -> str:
    """A file Vexil appends to: ``-`` (stdout), or a path in an existing directory."""
    if value == "-":
        return value
    path = Path(value)
    if path.is_dir() or not path.resolve().parent.is_dir():
        raise ValueError(value)
    return value


def persistent_secret(path: Path) -> str:
    """Return the secret stored at ``path``, creating it exactly once.

    Several processes may start at the same moment (``vexil serve --workers N``); ``O_EXCL``
    makes exactly one of them write the file and the others read what it wrote.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return _read_secret(path)
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(50))
    return _read_secret(path)


def _read_secret(path: Path) -> str:
    for _ in range(100):
        value = path.read_text().strip()
        if value:
            return value
        # Another process created the file and has not written it yet.
        time.sleep(0.01)
    raise ConfigurationError("DJANGO_SECRET_KEY", f"set, or {path} readable and not empty")
