from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from vexil.organisations.models import UserGroup
from vexil.organisations.serializers import UserGroupSummarySerializer
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.users.models import User
from vexil.users.serializers import UserSummarySerializer


class _OrganisationScoped(serializers.PrimaryKeyRelatedField):
    """Choices limited to the organisation the view works in (``context["organisation"]``)."""

    def get_queryset(self) -> Any:
        organisation = self.context.get("organisation")
        if organisation is None:
            return self.scope(None)
        return self.scope(organisation.pk)

    def scope(self, organisation_id: int | None) -> Any:
        raise NotImplementedError


@extend_schema_field(OpenApiTypes.INT)
class MemberField(_OrganisationScoped):
    def scope(self, organisation_id: int | None) -> Any:
        if organisation_id is None:
            return User.objects.none()
        return User.objects.filter(memberships__organisation_id=organisation_id)


@extend_schema_field(OpenApiTypes.INT)
class GroupField(_OrganisationScoped):
    def scope(self, organisation_id: int | None) -> Any:
        if organisation_id is None:
            return UserGroup.objects.none()
        return UserGroup.objects.filter(organisation_id=organisation_id)


def _keys(choices: Any) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.ChoiceField(choices=choices.choices), required=False, max_length=50
    )


class _GrantOutput(serializers.ModelSerializer):
    user = UserSummarySerializer(read_only=True)
    group = UserGroupSummarySerializer(read_only=True)
    permissions = serializers.SerializerMethodField()

    def get_permissions(self, grant: Any) -> list[str]:
        return sorted(grant.permissions)


class ProjectUserGrantSerializer(_GrantOutput):
    class Meta:
        model = ProjectGrant
        fields = ("id", "user", "permissions", "admin")
        read_only_fields = fields


class ProjectGroupGrantSerializer(_GrantOutput):
    class Meta:
        model = ProjectGrant
        fields = ("id", "group", "permissions", "admin")
        read_only_fields = fields


class EnvironmentUserGrantSerializer(_GrantOutput):
    class Meta:
        model = EnvironmentGrant
        fields = ("id", "user", "permissions", "admin")
        read_only_fields = fields


class EnvironmentGroupGrantSerializer(_GrantOutput):
    class Meta:
        model = EnvironmentGrant
        fields = ("id", "group", "permissions", "admin")
        read_only_fields = fields


class GrantUpdateInput(serializers.Serializer):
    """What a grant allows; who holds it and on what never change."""

    permissions = serializers.ListField(
        child=serializers.CharField(max_length=64), required=False, max_length=50
    )
    admin = serializers.BooleanField(required=False)


class ProjectGrantUpdateInput(GrantUpdateInput):
    permissions = _keys(ProjectPermission)


class EnvironmentGrantUpdateInput(GrantUpdateInput):
    permissions = _keys(EnvironmentPermission)


class ProjectUserGrantInput(ProjectGrantUpdateInput):
    user = MemberField(help_text="A member of the project's organisation.")


class ProjectGroupGrantInput(ProjectGrantUpdateInput):
    group = GroupField(help_text="A group of the project's organisation.")


class EnvironmentUserGrantInput(EnvironmentGrantUpdateInput):
    user = MemberField(help_text="A member of the environment's organisation.")


class EnvironmentGroupGrantInput(EnvironmentGrantUpdateInput):
    group = GroupField(help_text="A group of the environment's organisation.")
