"""Coercion of trait and JSONPath values into context values (protocol §2.4 step 4).

Flagsmith stores traits as strings in places, so numeric-looking strings compare as numbers:
`"007"` is the int 7 and `"1.50"` the float 1.5, while `"+5"`, `"1e3"`, `" 5"` and `".5"` stay
strings. Only ASCII digits count, which is why this does not use `str.isdigit` on its own.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from vexil.engine.types import ContextValue


def to_context_value(value: Any) -> ContextValue:
    """Map any trait value to a context value: numeric strings become numbers, others `str()`."""
    value_type = type(value)
    if value_type is str:
        return _coerce_string(value)
    if value is None or value_type in (bool, int, float):
        return value
    if isinstance(value, str):
        return _coerce_string(str(value))
    if isinstance(value, bool | int | float):
        return value
    if isinstance(value, Decimal):
        return _coerce_decimal(value)
    return str(value)


def _coerce_string(text: str) -> ContextValue:
    body = text[1:] if text[:1] == "-" else text
    if not body.isascii():
        return text
    if body.isdigit():
        return _int_or_text(text)
    whole, dot, fraction = body.partition(".")
    if dot and whole.isdigit() and fraction.isdigit():
        return float(text)
    return text


def _int_or_text(text: str) -> ContextValue:
    # Python refuses to parse ints longer than sys.get_int_max_str_digits() (4300 digits);
    # such a value is not a plausible number, so it stays a string instead of raising.
    try:
        return int(text)
    except ValueError:
        return text


def _coerce_decimal(value: Decimal) -> ContextValue:
    if value.as_tuple().exponent:
        return float(str(value))
    return int(value)
