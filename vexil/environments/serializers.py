from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.permissions import selectors
from vexil.permissions.drf import principal_of
from vexil.projects.models import Project


class VisibleProjectField(serializers.PrimaryKeyRelatedField):
    """A project id, chosen among the projects the requester may see (forms included)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        principal = principal_of(request) if request is not None else None
        if principal is None:
            return Project.objects.none()
        return selectors.projects_visible_to(principal)


class EnvironmentSerializer(serializers.ModelSerializer):
    project = VisibleProjectField()
    use_mv_v2_evaluation = serializers.BooleanField(
        source="use_identity_composite_key_for_hashing", read_only=True
    )
    use_v2_feature_versioning = serializers.SerializerMethodField()
    minimum_change_request_approvals = serializers.SerializerMethodField()

    class Meta:
        model = Environment
        fields = (
            "id",
            "uuid",
            "name",
            "api_key",
            "description",
            "project",
            "allow_client_traits",
            "hide_disabled_flags",
            "hide_sensitive_data",
            "use_identity_composite_key_for_hashing",
            "use_mv_v2_evaluation",
            "use_identity_overrides_in_local_eval",
            "use_v2_feature_versioning",
            "minimum_change_request_approvals",
            "banner_text",
            "banner_colour",
            "created_date",
            "updated_at",
            "revision",
        )
        read_only_fields = ("uuid", "api_key", "created_date", "updated_at", "revision")

    def get_use_v2_feature_versioning(self, environment: Environment) -> bool:
        return False

    @extend_schema_field({"type": "integer", "nullable": True})
    def get_minimum_change_request_approvals(self, environment: Environment) -> None:
        return None


class EnvironmentUpdateSerializer(EnvironmentSerializer):
    """Updates never move an environment to another project."""

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        fields["project"] = serializers.PrimaryKeyRelatedField(read_only=True)
        return fields


class EnvironmentCloneSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=2000)
    description = serializers.CharField(required=False, allow_blank=True)


class EnvironmentAPIKeySerializer(serializers.ModelSerializer):
    class Meta:
        model = EnvironmentAPIKey
        fields: tuple[str, ...] = ("id", "name", "prefix", "created_at", "expires_at", "active")
        read_only_fields = ("prefix", "created_at")


class EnvironmentAPIKeyCreatedSerializer(EnvironmentAPIKeySerializer):
    """The creation response: the only time the plaintext ``key`` is shown."""

    key = serializers.SerializerMethodField()

    class Meta(EnvironmentAPIKeySerializer.Meta):
        fields = (*EnvironmentAPIKeySerializer.Meta.fields, "key")

    def get_key(self, key: EnvironmentAPIKey) -> str:
        return str(self.context["plaintext"])


class _FeatureSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()


class _SegmentSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema_field(
    {"oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}], "nullable": True}
)
class _ScalarField(serializers.JSONField):
    pass


class IdentityFeatureStateSerializer(serializers.Serializer):
    """One feature as an identity gets it now (``identities/{id}/featurestates/all/``)."""

    feature = _FeatureSummarySerializer()
    enabled = serializers.BooleanField()
    feature_state_value = _ScalarField()
    variant = serializers.CharField(allow_null=True)
    overridden_by = serializers.ChoiceField(choices=["IDENTITY", "SEGMENT"], allow_null=True)
    segment = _SegmentSummarySerializer(allow_null=True)
