"""What every feature service shares: unset marker, value and allocation checks, specs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.core.exceptions import ValidationError

from vexil.features.models import (
    FeatureValue,
    InvalidValueError,
    MultivariateFeatureOption,
    value_type_of,
)


class _Unset:
    def __repr__(self) -> str:
        return "UNSET"


UNSET: Final = _Unset()
"""Marks an argument not given (``None`` is a valid feature value)."""

ALLOCATION_TOLERANCE = 1e-9


@dataclass(frozen=True)
class OptionSpec:
    """A multivariate option to create: its value, default allocation and optional key."""

    value: FeatureValue
    default_percentage_allocation: float = 100
    key: str | None = None


@dataclass(frozen=True)
class Allocation:
    option: MultivariateFeatureOption
    percentage_allocation: float


def _invalid(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def _checked_value(value: FeatureValue, field: str) -> FeatureValue:
    try:
        value_type_of(value)
    except InvalidValueError as error:
        raise _invalid(field, str(error)) from error
    return value


def _allocation_validate(percentage: float, field: str) -> None:
    if not 0 <= percentage <= 100:
        raise _invalid(field, "Percentage allocations must be between 0 and 100.")
