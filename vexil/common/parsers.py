"""Request body parsers for the management API: strict about what they accept, never a 500.

- JSON: a number beyond a double's range (``1e400``, which Python reads as infinity) is a 400;
  nesting deeper than :data:`MAX_JSON_DEPTH` is a 400 (Python's parser would otherwise
  raise ``RecursionError`` on very deep input, and anything that walks the value later could);
  a NUL character anywhere is a 400 naming the field, on every database (PostgreSQL cannot store
  one in text, SQLite can; the answer must not depend on which is configured). Forms too.
- Forms: a body that is JSON sent as a form (``curl -d`` without a Content-Type header) is a 415
  that says so, instead of "field required" errors about fields the caller did send; a form with
  more fields than ``DATA_UPLOAD_MAX_NUMBER_FIELDS`` is a 400.
"""

from __future__ import annotations

import codecs
import json
import math
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import TooManyFieldsSent
from django.http import QueryDict
from rest_framework import exceptions, parsers
from rest_framework.utils import json as drf_json

MAX_JSON_DEPTH = 32
NUL_MESSAGE = "Null characters are not allowed."
SEND_JSON = "Send the body as JSON with 'Content-Type: application/json'."


class JSONParser(parsers.JSONParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            text = codecs.getreader(encoding)(stream).read()
            data = json.loads(
                text, parse_constant=drf_json.strict_constant, parse_float=_finite_float
            )
        except RecursionError:
            raise _too_deep() from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from None
        check_json_value(data)
        return data


def _finite_float(text: str) -> float:
    """A JSON number beyond a double's range (``1e400``) is refused, not taken as infinity."""
    value = float(text)
    if math.isinf(value):
        raise ValueError(f"Number out of range: {text[:40]}")
    return value


def check_json_value(data: Any) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH` and NUL characters (walked without
    recursion, so the check itself cannot run out of stack)."""
    stack: list[tuple[Any, int, str | None]] = [(data, 1, None)]
    while stack:
        value, depth, field = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise _too_deep()
        if isinstance(value, str):
            if "\x00" in value:
                raise _nul_error(field)
        elif isinstance(value, dict):
            for key, item in value.items():
                if "\x00" in key:
                    raise _nul_error(field)
                stack.append((item, depth + 1, key if field is None else field))
        elif isinstance(value, list):
            stack.extend((item, depth + 1, field) for item in value)


def _too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")


def _nul_error(field: str | None) -> exceptions.ValidationError:
    return exceptions.ValidationError({field or "non_field_errors": [NUL_MESSAGE]})


class FormParser(parsers.FormParser):
    def parse(
        self,
        stream: Any,
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        raw = stream.read()
        if raw.lstrip()[:1] in (b"{", b"["):
            raise exceptions.UnsupportedMediaType(
                media_type or "",
                detail=f"The body was not read as JSON: it was sent as '{media_type}'. {SEND_JSON}",
            )
        encoding = parsers.get_encoding(parser_context or {})  # type: ignore[attr-defined]
        try:
            form = QueryDict(raw, encoding=encoding)
        except TooManyFieldsSent as error:
            raise exceptions.ParseError(f"Form parse error - {error}") from None
        for key, values in form.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                raise _nul_error(key)
        return form
