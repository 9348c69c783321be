from __future__ import annotations

from typing import Any

from rest_framework import serializers

from vexil.organisations.models import Organisation
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import principal_of
from vexil.projects.models import Project


class VisibleOrganisationField(serializers.PrimaryKeyRelatedField):
    """Only the requester's organisations are valid choices (in forms and validation alike)."""

    def get_queryset(self) -> Any:
        request = self.context.get("request")
        principal = principal_of(request) if request is not None else None
        if principal is None:
            return Organisation.objects.none()
        return permission_selectors.organisations_for(principal)


class ProjectSerializer(serializers.ModelSerializer):
    organisation: Any = VisibleOrganisationField()
    enable_dynamo_db = serializers.SerializerMethodField(
        help_text="Always false: Vexil keeps identities in its own database."
    )

    class Meta:
        model = Project
        fields = (
            "id",
            "uuid",
            "name",
            "organisation",
            "created_date",
            "hide_disabled_flags",
            "enable_dynamo_db",
            "enable_realtime_updates",
            "feature_name_regex",
            "only_allow_lower_case_feature_names",
            "prevent_flag_defaults",
            "enforce_feature_owners",
            "stale_flags_limit_days",
        )
        read_only_fields = ("id", "uuid", "created_date")

    def get_enable_dynamo_db(self, project: Project) -> bool:
        return False


class ProjectUpdateSerializer(ProjectSerializer):
    """A project never moves to another organisation."""

    organisation: Any = serializers.PrimaryKeyRelatedField(read_only=True)
