from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from vexil.dashboard.forms import DashboardForm
from vexil.dashboard.forms.renderer import FILTER_RENDERER
from vexil.features.models import (
    Feature,
    FeatureState,
    FeatureValue,
    InvalidValueError,
    MultivariateFeatureOption,
    ValueType,
    value_type_of,
)
from vexil.features.selectors import FeatureQuery
from vexil.segments.models import Segment
from vexil.tags.models import Tag
from vexil.users.models import User

_ENABLED = {"on": True, "off": False}
_ARCHIVED = {"": False, "only": True, "all": None}


class FeatureFilterForm(DashboardForm):
    """The features list's query string: search, filters, sort and page."""

    default_renderer = FILTER_RENDERER

    search = forms.CharField(label="Search", required=False, max_length=200)
    tag = forms.TypedMultipleChoiceField(label="Tags", required=False, coerce=int)
    owner = forms.TypedChoiceField(label="Owner", required=False, coerce=int, empty_value=None)
    enabled = forms.ChoiceField(
        label="State",
        required=False,
        choices=[("", "On or off"), ("on", "On"), ("off", "Off")],
    )
    archived = forms.ChoiceField(
        label="Archived",
        required=False,
        choices=[("", "Hide archived"), ("only", "Only archived"), ("all", "Show all")],
    )
    sort = forms.ChoiceField(
        label="Sort by",
        required=False,
        choices=[
            ("name", "Name (A to Z)"),
            ("-name", "Name (Z to A)"),
            ("-created", "Newest first"),
            ("created", "Oldest first"),
            ("-changed", "Recently changed"),
            ("changed", "Least recently changed"),
        ],
    )

    def __init__(
        self, *args: Any, tags: Sequence[Tag] = (), owners: Sequence[User] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [(tag.pk, tag.label) for tag in tags]  # type: ignore[attr-defined]
        self.fields["owner"].choices = [("", "Anyone")] + [  # type: ignore[attr-defined]
            (user.pk, user.email) for user in owners
        ]
        if not tags:
            del self.fields["tag"]

    def query(self) -> FeatureQuery:
        """The query for valid input; the default query (everything, by name) otherwise."""
        if not self.is_valid():
            return FeatureQuery()
        data = self.cleaned_data
        return FeatureQuery(
            search=data["search"].strip(),
            tag_ids=tuple(data.get("tag", ())),
            owner_id=data["owner"],
            enabled=_ENABLED.get(data["enabled"]),
            archived=_ARCHIVED[data["archived"]],
            sort=data["sort"] or "name",
        )


# --- Typed values ---------------------------------------------------------------------------------

VALUE_TYPES = [("string", "String"), ("integer", "Integer"), ("boolean", "Boolean")]
_TYPE_OF_STORED = {
    ValueType.STRING: "string",
    ValueType.INTEGER: "integer",
    ValueType.BOOLEAN: "boolean",
}


def value_type_name(value: FeatureValue) -> str:
    """The form's name for the type of a stored value."""
    return _TYPE_OF_STORED[value_type_of(value)]


def value_text(value: FeatureValue) -> str:
    """How a stored value shows in a text box (and in the features list)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def typed_value(text: str, type_name: str) -> FeatureValue:
    """The value the user typed, as the type they chose; ``ValidationError`` if it is not one."""
    if type_name == "integer":
        try:
            value: FeatureValue = int(text.strip())
        except ValueError:
            raise forms.ValidationError("Enter a whole number, such as 42.") from None
    elif type_name == "boolean":
        if text.strip().lower() not in ("true", "false"):
            raise forms.ValidationError("Enter true or false.")
        value = text.strip().lower() == "true"
    else:
        value = text if text != "" else None
    try:
        value_type_of(value)
    except InvalidValueError as error:
        raise forms.ValidationError(str(error)) from None
    return value


class TypedValueForm(DashboardForm):
    """A value and its type; ``cleaned_data["typed_value"]`` holds the typed value."""

    value_field = "value"
    value = forms.CharField(label="Value", required=False, strip=False, max_length=20_000)
    value_type = forms.ChoiceField(label="Type", choices=VALUE_TYPES, initial="string")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if "value" in cleaned and "value_type" in cleaned:
            try:
                cleaned["typed_value"] = typed_value(cleaned["value"], cleaned["value_type"])
            except forms.ValidationError as error:
                self.add_error("value", error)
        return cleaned


class FeatureForm(TypedValueForm):
    """Create a feature, or change its settings (``value`` is then its initial value)."""

    field_order = ["name", "description", "value", "value_type", "default_enabled"]
    name = forms.CharField(label="Name", max_length=2000)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    default_enabled = forms.BooleanField(label="On in every environment at first", required=False)
    tags = forms.TypedMultipleChoiceField(
        label="Tags", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    owners = forms.TypedMultipleChoiceField(
        label="Owners", required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    is_server_key_only = forms.BooleanField(
        label="Server-side only (never sent to client-side SDKs)", required=False
    )

    def __init__(
        self, *args: Any, tags: Sequence[Tag] = (), owners: Sequence[User] = (), **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["value"].label = "Initial value"
        self.tag_objects = {tag.pk: tag for tag in tags}
        self.owner_objects = {user.pk: user for user in owners}
        self.fields["tags"].choices = [(t.pk, t.label) for t in tags]  # type: ignore[attr-defined]
        self.fields["owners"].choices = [(u.pk, u.email) for u in owners]  # type: ignore[attr-defined]
        if not tags:
            del self.fields["tags"]
        if not owners:
            del self.fields["owners"]

    def selected_tags(self) -> list[Tag]:
        return [self.tag_objects[pk] for pk in self.cleaned_data.get("tags", [])]

    def selected_owners(self) -> list[User]:
        return [self.owner_objects[pk] for pk in self.cleaned_data.get("owners", [])]

    @classmethod
    def initial_of(cls, feature: Feature) -> dict[str, Any]:
        return {
            "name": feature.name,
            "description": feature.description,
            "value": value_text(feature.initial_value),
            "value_type": value_type_name(feature.initial_value),
            "default_enabled": feature.default_enabled,
            "is_server_key_only": feature.is_server_key_only,
            "tags": [tag.pk for tag in feature.tags.all()],
            "owners": [user.pk for user in feature.owners.all()],
        }


class StateForm(TypedValueForm):
    """A feature's state in one environment; ``version`` is the ``updated_at`` the user saw."""

    enabled = forms.BooleanField(label="On", required=False)
    version = forms.DateTimeField(widget=forms.HiddenInput)
    field_order = ["enabled", "value", "value_type"]

    @classmethod
    def initial_of(cls, state: FeatureState) -> dict[str, Any]:
        return {
            "enabled": state.enabled,
            "value": value_text(state.value),
            "value_type": value_type_name(state.value),
            "version": state.updated_at.isoformat(),
        }


# A weight input: weights.js totals the inputs so marked while the user types.
WEIGHT_INPUT = forms.NumberInput(attrs={"data-weight": "", "step": "any"})


class ToggleForm(DashboardForm):
    """A switch of the features list: the state wanted, and the ``updated_at`` the user saw."""

    enabled = forms.BooleanField(required=False)
    version = forms.DateTimeField()


class WeightsForm(DashboardForm):
    """Multivariate weights of a state: one percentage per variation, totalling at most 100."""

    def __init__(
        self, *args: Any, options: Sequence[MultivariateFeatureOption] = (), **kwargs: Any
    ) -> None:
        # Shares a page with the segment-override form, which has weight fields of the same names.
        kwargs.setdefault("auto_id", "id_weights_%s")
        super().__init__(*args, **kwargs)
        self.options = {f"weight_{option.pk}": option for option in options}
        for name, option in self.options.items():
            self.fields[name] = forms.FloatField(
                label=f"Weight of {value_text(option.value) or 'no value'} (%)",
                min_value=0,
                max_value=100,
                widget=WEIGHT_INPUT,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        total = sum(cleaned.get(name) or 0 for name in self.options)
        if total > 100:
            raise forms.ValidationError(f"Weights must total 100% or less (they total {total:g}%).")
        return cleaned

    def weights(self) -> list[tuple[MultivariateFeatureOption, float]]:
        return [(option, self.cleaned_data[name]) for name, option in self.options.items()]


class VariationForm(TypedValueForm):
    """A new variation of a feature, with its default weight in new states."""

    weight = forms.FloatField(label="Default weight (%)", min_value=0, max_value=100, initial=0)


class SegmentOverrideForm(TypedValueForm):
    segment = forms.TypedChoiceField(label="Segment", coerce=int)
    enabled = forms.BooleanField(label="On for this segment", required=False)
    field_order = ["segment", "enabled", "value", "value_type"]

    def __init__(
        self,
        *args: Any,
        segments: Sequence[Segment] = (),
        options: Sequence[MultivariateFeatureOption] = (),
        **kwargs: Any,
    ) -> None:
        # Shares a page with the state form: distinct ids keep each label on its own input.
        kwargs.setdefault("auto_id", "id_override_%s")
        super().__init__(*args, **kwargs)
        self.segment_objects = {segment.pk: segment for segment in segments}
        self.fields["segment"].choices = [(s.pk, s.name) for s in segments]  # type: ignore[attr-defined]
        self.options = {f"weight_{option.pk}": option for option in options}
        for name, option in self.options.items():
            self.fields[name] = forms.FloatField(
                label=f"Weight of {value_text(option.value) or 'no value'} (%)",
                min_value=0,
                max_value=100,
                required=False,
                help_text="Empty: the environment's weight.",
                widget=WEIGHT_INPUT,
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        total = sum(cleaned.get(name) or 0 for name in self.options)
        if total > 100:
            raise forms.ValidationError(f"Weights must total 100% or less (they total {total:g}%).")
        return cleaned

    def selected_segment(self) -> Segment:
        return self.segment_objects[self.cleaned_data["segment"]]

    def weights(self) -> list[tuple[MultivariateFeatureOption, float]]:
        """The weights the user gave (the others follow the environment's)."""
        return [
            (option, self.cleaned_data[name])
            for name, option in self.options.items()
            if self.cleaned_data.get(name) is not None
        ]
