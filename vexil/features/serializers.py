from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vexil.common.fields import (
    POSITIVE_INT_MAX,
    IdField,
    StrictBooleanField,
    StrictIntegerField,
    StrictStringField,
)
from vexil.features.models import (
    INT32_MAX,
    INT32_MIN,
    STRING_VALUE_MAX_LENGTH,
    Feature,
    FeatureSegment,
    FeatureState,
    FeatureValue,
    InvalidValueError,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
    ValueType,
    value_type_of,
)
from vexil.features.services import OptionSpec
from vexil.tags.models import Tag

_TYPED_FIELDS = {
    ValueType.STRING: "string_value",
    ValueType.INTEGER: "integer_value",
    ValueType.BOOLEAN: "boolean_value",
}


_TYPE_OF_COLUMN = {column: kind for kind, column in _TYPED_FIELDS.items()}
NOT_A_VALUE = (
    "Values must be a JSON string, a 32-bit integer, a boolean or null (Flagsmith stores no "
    "other type): send an object, a list or a decimal number as a string holding its JSON."
)


def typed_value(data: dict[str, Any], *, partial: bool = False) -> FeatureValue:
    """A value given the Flagsmith way: ``{"type": "int", "integer_value": 5}``.

    Exact or refused: the column of the type must be the one given (or, without ``type``, the only
    one given), no other column may hold a value, and the value must be of that type.
    """
    kind = data.get("type")
    given = [column for column in _TYPE_OF_COLUMN if column in data]
    if kind is None:
        if len(given) > 1:
            raise serializers.ValidationError({"type": ["Say which of the values is meant."]})
        kind = _TYPE_OF_COLUMN[given[0]] if given else ValueType.STRING
    if kind not in _TYPED_FIELDS:
        raise serializers.ValidationError({"type": [f"Expected one of {list(_TYPED_FIELDS)}."]})
    column = _TYPED_FIELDS[ValueType(kind)]
    if column not in data and (given or "type" in data or partial):
        raise serializers.ValidationError({column: [f"Required for type {kind!r}."]})
    others = [c for c in given if c != column and data[c] is not None]
    if others:
        raise serializers.ValidationError({c: [f"Not a {kind!r} value."] for c in others})
    value: FeatureValue = data.get(column)
    if value is not None and value_type_of(value) != kind:
        raise serializers.ValidationError({column: [f"Not a {kind!r} value."]})
    return value


@extend_schema_field(
    {
        "oneOf": [
            {"type": "string", "maxLength": STRING_VALUE_MAX_LENGTH},
            {"type": "integer", "minimum": INT32_MIN, "maximum": INT32_MAX},
            {"type": "boolean"},
        ],
        "nullable": True,
    }
)
class FeatureValueField(serializers.Field):
    """A feature value typed by its JSON type (string, 32-bit integer, boolean or null).

    Also accepts Flagsmith's object form ``{"type": "unicode", "string_value": "x"}``; any other
    object, a list or a decimal number is refused (400), never stored as something else.
    """

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("allow_null", True)
        super().__init__(**kwargs)

    def to_internal_value(self, data: Any) -> FeatureValue:
        try:
            if isinstance(data, dict):
                if not data or set(data) - {"type", *_TYPE_OF_COLUMN}:
                    raise serializers.ValidationError(NOT_A_VALUE)
                return typed_value(data)
            if not isinstance(data, str | int | bool):
                raise serializers.ValidationError(NOT_A_VALUE)
            if isinstance(data, str) and "\x00" in data:
                raise serializers.ValidationError("Null characters are not allowed.")
            value_type_of(data)
        except InvalidValueError as error:
            raise serializers.ValidationError(str(error)) from error
        except serializers.ValidationError as error:
            raise serializers.ValidationError(_flattened(error.detail)) from error
        return data

    def to_representation(self, value: Any) -> Any:
        return value


def _flattened(detail: Any) -> list[str]:
    """A nested error of the object form, as the field's own list of messages."""
    if isinstance(detail, dict):
        return [f"{key}: {message}" for key, messages in detail.items() for message in messages]
    return [str(message) for message in detail]


class ProjectTagField(serializers.PrimaryKeyRelatedField):
    """Tags of the project in the serializer context only (forms included)."""

    def get_queryset(self) -> Any:
        queryset = Tag.objects.all()
        project = self.context.get("project")
        return queryset.filter(project=project) if project is not None else queryset.none()


# --- Multivariate options -------------------------------------------------------------------


class MultivariateOptionSerializer(serializers.ModelSerializer):
    type = serializers.ChoiceField(choices=ValueType.choices, required=False)
    string_value = StrictStringField(
        required=False, allow_null=True, allow_blank=True, max_length=STRING_VALUE_MAX_LENGTH
    )
    integer_value = StrictIntegerField(
        required=False, allow_null=True, min_value=INT32_MIN, max_value=INT32_MAX
    )
    boolean_value = StrictBooleanField(required=False, allow_null=True)
    value = FeatureValueField(required=False, write_only=True)
    default_percentage_allocation = serializers.FloatField(min_value=0, max_value=100, default=100)

    class Meta:
        model = MultivariateFeatureOption
        fields = (
            "id",
            "uuid",
            "type",
            "string_value",
            "integer_value",
            "boolean_value",
            "value",
            "default_percentage_allocation",
            "key",
            "feature",
        )
        read_only_fields = ("uuid", "feature")

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if "value" in attrs:
            if "type" in attrs or any(field in attrs for field in _TYPED_FIELDS.values()):
                raise serializers.ValidationError(
                    {"value": ["Give either value or type with its typed value, not both."]}
                )
            return attrs
        if any(f in attrs for f in _TYPED_FIELDS.values()) or "type" in attrs or not self.partial:
            try:
                attrs["value"] = typed_value(attrs, partial=self.partial)
            except InvalidValueError as error:
                raise serializers.ValidationError({"value": [str(error)]}) from error
        return attrs

    def to_spec(self) -> OptionSpec:
        data = self.validated_data
        return OptionSpec(
            value=data.get("value"),
            default_percentage_allocation=data.get("default_percentage_allocation", 100),
            key=data.get("key"),
        )


# --- Features -------------------------------------------------------------------------------------


class EnvironmentStateSerializer(serializers.ModelSerializer):
    feature_state_value = FeatureValueField(source="value")

    class Meta:
        model = FeatureState
        fields = ("id", "featurestate_uuid", "enabled", "feature_state_value", "updated_at")


class OwnerSerializer(serializers.Serializer):
    id = IdField()
    email = serializers.EmailField()


class FeatureSerializer(serializers.ModelSerializer):
    initial_value = FeatureValueField(required=False)
    tags = ProjectTagField(many=True, required=False)
    multivariate_options = MultivariateOptionSerializer(many=True, required=False)
    owners = OwnerSerializer(many=True, read_only=True)
    environment_feature_state = serializers.SerializerMethodField()

    class Meta:
        model = Feature
        fields = (
            "id",
            "uuid",
            "name",
            "type",
            "default_enabled",
            "initial_value",
            "description",
            "tags",
            "is_archived",
            "is_server_key_only",
            "multivariate_options",
            "owners",
            "project",
            "created_date",
            "environment_feature_state",
        )
        read_only_fields = ("uuid", "type", "project", "created_date")

    def get_environment_feature_state(self, feature: Feature) -> dict[str, Any] | None:
        states = getattr(feature, "environment_states", None)
        if not states:
            return None
        return EnvironmentStateSerializer(states[0]).data

    def validate_multivariate_options(self, value: list[Any]) -> list[Any]:
        if self.instance is not None:
            raise serializers.ValidationError(
                "Change options through the feature's mv-options/ endpoint."
            )
        return value

    def option_specs(self) -> list[OptionSpec]:
        specs = []
        for raw in self.initial_data.get("multivariate_options") or []:
            option = MultivariateOptionSerializer(data=raw)
            option.is_valid(raise_exception=True)
            specs.append(option.to_spec())
        return specs


# --- Feature states -------------------------------------------------------------------------------


class MultivariateStateValueSerializer(serializers.ModelSerializer):
    percentage_allocation = serializers.FloatField(min_value=0, max_value=100)

    class Meta:
        model = MultivariateFeatureStateValue
        fields = ("id", "multivariate_feature_option", "percentage_allocation", "mv_fs_value_uuid")
        read_only_fields = ("mv_fs_value_uuid",)
        extra_kwargs = {"id": {"read_only": True}}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Options are resolved against the state's feature by the view, not against every row.
        self.fields["multivariate_feature_option"] = IdField()

    def to_representation(self, instance: MultivariateFeatureStateValue) -> dict[str, Any]:
        return {
            "id": instance.pk,
            "multivariate_feature_option": instance.multivariate_feature_option_id,
            "percentage_allocation": instance.percentage_allocation,
            "mv_fs_value_uuid": str(instance.mv_fs_value_uuid),
        }


class FeatureSegmentBriefSerializer(serializers.ModelSerializer):
    segment_name = serializers.CharField(source="segment.name", read_only=True)

    class Meta:
        model = FeatureSegment
        fields = ("id", "uuid", "segment", "segment_name", "priority")


class FeatureStateSerializer(serializers.ModelSerializer):
    """A feature state: environment default, segment override or identity override."""

    feature_state_value = FeatureValueField(source="value", required=False)
    multivariate_feature_state_values = MultivariateStateValueSerializer(many=True, required=False)
    feature_segment = serializers.SerializerMethodField()
    django_id = serializers.IntegerField(read_only=True)

    class Meta:
        model = FeatureState
        fields = (
            "id",
            "featurestate_uuid",
            "django_id",
            "feature",
            "environment",
            "identity",
            "feature_segment",
            "enabled",
            "feature_state_value",
            "multivariate_feature_state_values",
            "created_at",
            "updated_at",
        )
        read_only_fields = (
            "featurestate_uuid",
            "feature",
            "environment",
            "identity",
            "created_at",
            "updated_at",
        )

    def get_feature_segment(self, state: FeatureState) -> dict[str, Any] | None:
        if state.feature_segment is None:
            return None
        return FeatureSegmentBriefSerializer(state.feature_segment).data


class FeatureStateCreateSerializer(serializers.Serializer):
    """``features/featurestates/`` create: a segment override's state (Flagsmith's 2nd step)."""

    feature = IdField()
    environment = IdField()
    feature_segment = IdField(required=False, allow_null=True)
    identity = IdField(required=False, allow_null=True)
    enabled = serializers.BooleanField(default=False)
    feature_state_value = FeatureValueField(required=False, default=None)
    multivariate_feature_state_values = MultivariateStateValueSerializer(many=True, required=False)


class SegmentOverrideCreateSerializer(serializers.Serializer):
    """``environments/{key}/features/{id}/create-segment-override/``."""

    class SlotSerializer(serializers.Serializer):
        segment = IdField()
        priority = serializers.IntegerField(
            min_value=0, max_value=POSITIVE_INT_MAX, required=False, allow_null=True
        )

    feature_segment = SlotSerializer(required=False)
    segment = IdField(required=False)
    priority = serializers.IntegerField(
        min_value=0, max_value=POSITIVE_INT_MAX, required=False, allow_null=True
    )
    enabled = serializers.BooleanField(default=False)
    feature_state_value = FeatureValueField(required=False, default=None)
    multivariate_feature_state_values = MultivariateStateValueSerializer(many=True, required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        slot = attrs.pop("feature_segment", None) or {}
        attrs.setdefault("segment", slot.get("segment"))
        if attrs["segment"] is None:
            raise serializers.ValidationError({"segment": ["This field is required."]})
        if attrs.get("priority") is None:
            attrs["priority"] = slot.get("priority")
        return attrs


# --- Feature segments -----------------------------------------------------------------------------


class FeatureSegmentSerializer(serializers.ModelSerializer):
    segment_name = serializers.CharField(source="segment.name", read_only=True)
    priority = serializers.IntegerField(
        min_value=0, max_value=POSITIVE_INT_MAX, required=False, allow_null=True
    )

    class Meta:
        model = FeatureSegment
        fields = ("id", "uuid", "feature", "segment", "segment_name", "environment", "priority")
        read_only_fields = ("uuid",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Related ids are resolved by the view against what the requester may see.
        for name in ("feature", "segment", "environment"):
            self.fields[name] = IdField(read_only=self.instance is not None, source=f"{name}_id")


class FeatureSegmentUpdateSerializer(FeatureSegmentSerializer):
    """PUT and PATCH: only the priority changes, so a PUT must give it."""

    priority = serializers.IntegerField(min_value=0, max_value=POSITIVE_INT_MAX)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name in ("feature", "segment", "environment"):
            self.fields[name] = IdField(read_only=True, source=f"{name}_id")


class PriorityItemSerializer(serializers.Serializer):
    id = IdField()
    priority = serializers.IntegerField(min_value=0, max_value=POSITIVE_INT_MAX)
