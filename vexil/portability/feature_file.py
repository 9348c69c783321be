"""Flagsmith's feature export file (protocol notes §7): reading it, checking it, writing it.

The file is a JSON array with one entry per feature: the feature's definition (name, defaults)
and one environment's default state (enabled, typed value, multivariate allocations). This
module only converts between that file and plain data; the services and selectors do the rest.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from vexil.features.models import (
    Feature,
    FeatureState,
    FeatureValue,
    InvalidValueError,
    ValueType,
    value_type_of,
)


class FeatureFileError(ValueError):
    """The file (or one of its entries) is not a Flagsmith feature export; says why."""


@dataclass(frozen=True)
class OptionEntry:
    value: FeatureValue
    percentage_allocation: float
    default_percentage_allocation: float


@dataclass(frozen=True)
class FeatureEntry:
    name: str
    default_enabled: bool
    is_server_key_only: bool
    initial_value: str | None
    enabled: bool
    value: FeatureValue
    multivariate: tuple[OptionEntry, ...]


def initial_value_text(value: object) -> str | None:
    """A feature's default value as Flagsmith writes it: a string, or null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def entry_of(feature: Feature, state: FeatureState) -> dict[str, Any]:
    """One feature of an export, from its environment-default ``state``.

    ``state`` must have ``multivariate_feature_state_values`` prefetched with their options.
    """
    return {
        "name": feature.name,
        "default_enabled": feature.default_enabled,
        "is_server_key_only": feature.is_server_key_only,
        "initial_value": initial_value_text(feature.initial_value),
        "value": state.value,
        "type": state.type,
        "enabled": state.enabled,
        "multivariate": [
            {
                "percentage_allocation": allocation.percentage_allocation,
                "default_percentage_allocation": (
                    allocation.multivariate_feature_option.default_percentage_allocation
                ),
                "value": allocation.multivariate_feature_option.value,
                "type": allocation.multivariate_feature_option.type,
            }
            for allocation in state.multivariate_feature_state_values.all()
        ],
    }


def parse_file(content: bytes) -> list[Any]:
    """The file's entries, unchecked; :class:`FeatureFileError` if it is not a JSON array."""
    try:
        data = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise FeatureFileError("The file is not UTF-8 encoded JSON.") from error
    if not isinstance(data, list):
        raise FeatureFileError("The file must be a JSON array of features (a feature export).")
    return data


def _typed(value: object, type_: object, what: str) -> FeatureValue:
    """``value`` as the type the file names (Flagsmith writes native values; strings pass)."""
    if type_ == ValueType.INTEGER and isinstance(value, str):
        try:
            value = int(value)
        except ValueError:
            raise FeatureFileError(f"{what}: {value!r} is not an integer.") from None
    if type_ == ValueType.BOOLEAN and isinstance(value, str):
        if value.lower() not in ("true", "false"):
            raise FeatureFileError(f"{what}: {value!r} is not a boolean.")
        value = value.lower() == "true"
    if type_ == ValueType.STRING and isinstance(value, bool | int | float):
        value = initial_value_text(value)
    if value is None:
        return None
    try:
        actual = value_type_of(value)  # type: ignore[arg-type]
    except InvalidValueError as error:
        raise FeatureFileError(f"{what}: {error}") from None
    if type_ is not None and actual != type_:
        raise FeatureFileError(f"{what}: {value!r} is not of type {type_!r}.")
    return value  # type: ignore[return-value]


def _bool(raw: dict[str, Any], key: str, default: bool = False) -> bool:
    value = raw.get(key, default)
    if not isinstance(value, bool):
        raise FeatureFileError(f"{key!r} must be true or false.")
    return value


def _percentage(raw: dict[str, Any], key: str, default: float | None = None) -> float:
    value = raw.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FeatureFileError(f"Multivariate {key!r} must be a number.")
    if not 0 <= value <= 100:
        raise FeatureFileError(f"Multivariate {key!r} must be between 0 and 100.")
    return float(value)


def _option_of(raw: object) -> OptionEntry:
    if not isinstance(raw, dict):
        raise FeatureFileError("Each multivariate entry must be an object.")
    value = _typed(raw.get("value"), raw.get("type"), "Multivariate value")
    return OptionEntry(
        value=value,
        percentage_allocation=_percentage(raw, "percentage_allocation"),
        default_percentage_allocation=_percentage(
            raw, "default_percentage_allocation", raw.get("percentage_allocation")
        ),
    )


def feature_entry_of(raw: object) -> FeatureEntry:
    """One entry of an import file, checked; :class:`FeatureFileError` says what is wrong."""
    if not isinstance(raw, dict):
        raise FeatureFileError("Each entry must be an object.")
    name = raw.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FeatureFileError("'name' must be a non-empty string.")
    initial = raw.get("initial_value")
    multivariate = raw.get("multivariate") or []
    if not isinstance(multivariate, list):
        raise FeatureFileError("'multivariate' must be a list.")
    return FeatureEntry(
        name=name,
        default_enabled=_bool(raw, "default_enabled"),
        is_server_key_only=_bool(raw, "is_server_key_only"),
        initial_value=None if initial is None else initial_value_text(initial),
        enabled=_bool(raw, "enabled"),
        value=_typed(raw.get("value"), raw.get("type"), "'value'"),
        multivariate=tuple(_option_of(option) for option in multivariate),
    )
