"""Input fields shared by every serializer and filter: ids, and values taken exactly as sent.

Primary keys are 64-bit (``BigAutoField``). An id outside 1..2**63-1 names nothing, and handing it
to the database is an error on SQLite ("Python int too large to convert to SQLite INTEGER") and on
PostgreSQL alike, so ids are bounded where they enter: the request answers 400, never 500.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django import forms
from rest_framework import serializers

ID_MAX = 2**63 - 1
# PositiveIntegerField columns (priorities) are 32-bit on every database Vexil supports.
POSITIVE_INT_MAX = 2**31 - 1


class IdField(serializers.IntegerField):
    """A primary key given in a request body."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class _IdFormField(forms.IntegerField):
    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", ID_MAX)
        super().__init__(**kwargs)


class IdFilter(django_filters.NumberFilter):
    """``?project=<id>``: an integer id; decimals, exponents and out-of-range values are a 400."""

    field_class = _IdFormField


class IdInFilter(django_filters.BaseInFilter, IdFilter):
    """``?environments=<id>,<id>``."""


# --- Values stored exactly or refused -----------------------------------------------------------
# DRF's own fields coerce: CharField turns 5 into "5", IntegerField "5" into 5, BooleanField "yes"
# into True. Where a value's JSON type is part of what is stored (feature and trait values), the
# value must arrive with that type, or the request is refused.


class StrictStringField(serializers.CharField):
    """A string kept as sent: not coerced from a number, and whitespace not trimmed."""

    default_error_messages = {"invalid": "Must be a JSON string."}

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("trim_whitespace", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return str(super().to_internal_value(data))


class StrictIntegerField(serializers.IntegerField):
    default_error_messages = {"invalid": "Must be a JSON integer."}

    def to_internal_value(self, data: Any) -> int:
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return int(super().to_internal_value(data))


class StrictFloatField(serializers.FloatField):
    default_error_messages = {"invalid": "Must be a JSON number."}

    def to_internal_value(self, data: Any) -> float:
        if isinstance(data, bool) or not isinstance(data, int | float):
            self.fail("invalid")
        return float(super().to_internal_value(data))


class StrictBooleanField(serializers.BooleanField):
    default_error_messages = {"invalid": "Must be a JSON boolean (true or false)."}

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid")
        return data
