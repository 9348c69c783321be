"""Input fields for ids, shared by every serializer and filter that accepts one.

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
