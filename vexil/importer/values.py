"""Flagsmith's ways of writing values, read into Vexil's; and the digest of what was imported."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson
from django.core.exceptions import ValidationError

from vexil.features.models import FeatureValue
from vexil.identities.models import TraitValue
from vexil.importer.source import SourceShapeError

TRAIT_COLUMNS = {
    "int": "integer_value",
    "float": "float_value",
    "bool": "boolean_value",
    "unicode": "string_value",
}


def fingerprint(*parts: object) -> str:
    """The digest of an object's source JSON: a second run skips a graph whose digest is kept."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def typed_value(item: Mapping[str, Any]) -> FeatureValue:
    """A value stored Flagsmith's way: ``type`` and one column per type."""
    kind = item.get("type")
    if kind == "int":
        value = item.get("integer_value")
    elif kind == "bool":
        value = item.get("boolean_value")
    elif kind == "unicode":
        value = item.get("string_value")
    else:
        raise SourceShapeError(f"An option value has the unknown type {kind!r}.")
    return value


def trait_value(item: Mapping[str, Any]) -> tuple[str, TraitValue | None]:
    """A trait as (key, value): Vexil answers ``trait_value``, Flagsmith one column per type."""
    if "trait_value" in item:
        return item["trait_key"], item["trait_value"]
    column = TRAIT_COLUMNS.get(item.get("value_type") or "unicode")
    if column is None:
        raise SourceShapeError(f"A trait has the unknown type {item.get('value_type')!r}.")
    return item["trait_key"], item.get(column)


def override_value(item: Mapping[str, Any]) -> FeatureValue:
    value = item.get("feature_state_value")
    if isinstance(value, dict):  # the generic feature-state shape: {"type", "string_value"...}
        return typed_value(value)
    return value


def override_feature_id(item: Mapping[str, Any]) -> object:
    feature = item["feature"]
    return feature["id"] if isinstance(feature, dict) else feature


def override_key(item: Mapping[str, Any]) -> tuple[object, bool, object]:
    return (override_feature_id(item), item["enabled"], override_value(item))


def error_messages(error: ValidationError) -> str:
    """A refusal's messages on one line, for the report."""
    if hasattr(error, "message_dict"):
        return "; ".join(f"{k}: {' '.join(v)}" for k, v in error.message_dict.items())
    return " ".join(error.messages)
