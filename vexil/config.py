"""Typed, strict reading of configuration from the environment (12-factor).

Every variable Vexil reads goes through an :class:`Environment` so that a malformed value stops
start-up with a message naming the variable and what was expected, instead of a traceback deep
inside Django. ``docs/configuration.md`` lists every variable; keep the two in step.

Values come from the process environment and, when ``VEXIL_CONFIG_FILE`` names one, from an
env-format file. Real environment variables win over the file.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

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

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        if not self.is_set(name):
            return default
        raw = self._values[name].strip()
        try:
            value = float(raw)
        except ValueError:
            raise ConfigurationError(name, "a number", raw) from None
        if value < minimum:
            raise ConfigurationError(name, f"a number >= {minimum}", raw)
        return value

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
