"""Forms of the Identities and Evaluate pages: identifiers, typed traits, identity overrides."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from django import forms

from vexil.dashboard.forms import DashboardForm
from vexil.dashboard.forms.features import TypedValueForm
from vexil.features.models import Feature
from vexil.identities.identify import TraitInput
from vexil.identities.models import (
    IDENTIFIER_MAX_LENGTH,
    TRAIT_KEY_MAX_LENGTH,
    InvalidTraitValueError,
    TraitValue,
    trait_value_type_of,
)

TRAIT_TYPES = [
    ("string", "String"),
    ("integer", "Integer"),
    ("float", "Decimal"),
    ("boolean", "Boolean"),
]
_TRAIT_TYPE_OF = {bool: "boolean", int: "integer", float: "float", str: "string"}
MAX_EVALUATE_TRAITS = 100


def trait_type_name(value: TraitValue | None) -> str:
    return _TRAIT_TYPE_OF.get(type(value), "string")


def trait_text(value: TraitValue | None) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def typed_trait(text: str, type_name: str) -> TraitValue:
    """The trait value the user typed, as the type they chose; ``ValidationError`` if not."""
    stripped = text.strip()
    value: TraitValue
    if type_name == "integer":
        try:
            value = int(stripped)
        except ValueError:
            raise forms.ValidationError("Enter a whole number, such as 42.") from None
    elif type_name == "float":
        try:
            value = float(stripped)
        except ValueError:
            raise forms.ValidationError("Enter a number, such as 1.5.") from None
        if not math.isfinite(value):
            raise forms.ValidationError("Enter a finite number.")
    elif type_name == "boolean":
        if stripped.lower() not in ("true", "false"):
            raise forms.ValidationError("Enter true or false.")
        value = stripped.lower() == "true"
    else:
        value = text
    try:
        trait_value_type_of(value)
    except InvalidTraitValueError as error:
        raise forms.ValidationError(str(error)) from None
    return value


class IdentitySearchForm(DashboardForm):
    q = forms.CharField(
        label="Search identifiers",
        required=False,
        max_length=IDENTIFIER_MAX_LENGTH,
        help_text='Part of an identifier, or an exact one in quotes: "alice@example.com".',
    )

    def query(self) -> str:
        return self.cleaned_data["q"].strip() if self.is_valid() else ""


class IdentityForm(DashboardForm):
    identifier = forms.CharField(label="Identifier", max_length=IDENTIFIER_MAX_LENGTH)


class TraitForm(DashboardForm):
    """A trait to add (key, value, type) or to change (value, type: without ``key``)."""

    key = forms.CharField(label="Trait key", max_length=TRAIT_KEY_MAX_LENGTH)
    value = forms.CharField(label="Value", required=False, strip=False, max_length=20_000)
    value_type = forms.ChoiceField(label="Type", choices=TRAIT_TYPES, initial="string")

    def __init__(self, *args: Any, with_key: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if not with_key:
            del self.fields["key"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "value" in cleaned and "value_type" in cleaned:
            try:
                cleaned["typed_value"] = typed_trait(cleaned["value"], cleaned["value_type"])
            except forms.ValidationError as error:
                self.add_error("value", error)
        return cleaned


class IdentityOverrideForm(TypedValueForm):
    """Set an identity's own state of a feature (replacing the override it may already have)."""

    feature = forms.TypedChoiceField(label="Feature", coerce=int)
    enabled = forms.BooleanField(label="On for this identity", required=False)
    field_order = ["feature", "enabled", "value", "value_type"]

    def __init__(self, *args: Any, features: Sequence[Feature] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feature_objects = {feature.pk: feature for feature in features}
        self.fields["feature"].choices = [(f.pk, f.name) for f in features]  # type: ignore[attr-defined]

    def selected_feature(self) -> Feature:
        return self.feature_objects[self.cleaned_data["feature"]]


class EvaluateForm(DashboardForm):
    """An identifier and traits to evaluate, from the query string (nothing is stored)."""

    identifier = forms.CharField(label="Identifier", max_length=IDENTIFIER_MAX_LENGTH)
    traits = forms.CharField(
        label="Traits",
        required=False,
        max_length=100_000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=(
            "One trait a line, as key = value. Values are typed: true and false are booleans, "
            '42 an integer, 1.5 a decimal; anything else, or a value in double quotes ("42"), '
            "is text. Traits given here replace the identity's stored ones of the same key."
        ),
    )

    def clean_traits(self) -> list[TraitInput]:
        traits: dict[str, TraitInput] = {}
        lines = [line for line in self.cleaned_data["traits"].splitlines() if line.strip()]
        if len(lines) > MAX_EVALUATE_TRAITS:
            raise forms.ValidationError(f"Give at most {MAX_EVALUATE_TRAITS} traits.")
        for number, line in enumerate(lines, start=1):
            key, separator, text = line.partition("=")
            key = key.strip()
            if not separator or not key:
                raise forms.ValidationError(f"Line {number}: write key = value.")
            if len(key) > TRAIT_KEY_MAX_LENGTH:
                raise forms.ValidationError(f"Line {number}: the key is too long.")
            try:
                value = literal_trait(text.strip())
            except forms.ValidationError as error:
                raise forms.ValidationError(f"Line {number}: {error.messages[0]}") from None
            traits[key] = TraitInput(key, value)
        return list(traits.values())


def literal_trait(text: str) -> TraitValue:
    """A typed trait from its literal: booleans, integers, decimals, else (or quoted) text."""
    if len(text) >= 2 and text.startswith('"') and text.endswith('"'):
        return typed_trait(text[1:-1], "string")
    if text.lower() in ("true", "false"):
        return text.lower() == "true"
    for type_name in ("integer", "float"):
        try:
            return typed_trait(text, type_name)
        except forms.ValidationError:
            continue
    return typed_trait(text, "string")


def traits_text(traits: Sequence[TraitInput]) -> str:
    """The textarea's form of traits (the inverse of ``EvaluateForm.clean_traits``)."""
    lines = []
    for trait in traits:
        value = trait.value
        text = trait_text(value)
        if isinstance(value, str) and literal_trait(value) != value:
            text = f'"{value}"'
        lines.append(f"{trait.key} = {text}")
    return "\n".join(lines)
