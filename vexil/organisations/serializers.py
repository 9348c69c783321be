from __future__ import annotations

from rest_framework import serializers

from vexil.common.fields import IdField
from vexil.organisations.models import (
    Organisation,
    OrganisationMembership,
    OrganisationRole,
    UserGroup,
)
from vexil.users.serializers import UserSummarySerializer


class OrganisationSerializer(serializers.ModelSerializer):
    role = serializers.CharField(
        read_only=True, allow_null=True, help_text="The requester's role in the organisation."
    )

    class Meta:
        model = Organisation
        fields = (
            "id",
            "uuid",
            "name",
            "created_date",
            "persist_trait_data",
            "stop_serving_flags",
            "force_2fa",
            "restrict_project_create_to_admin",
            "webhook_notification_email",
            "feature_analytics",
            "role",
        )
        read_only_fields = (
            "id",
            "uuid",
            "created_date",
            "persist_trait_data",
            "stop_serving_flags",
            "role",
        )


class MemberSerializer(serializers.ModelSerializer):
    """A member of an organisation: the user's fields and their role (Flagsmith's shape)."""

    id = serializers.IntegerField(source="user.id", read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)
    first_name = serializers.CharField(source="user.first_name", read_only=True)
    last_name = serializers.CharField(source="user.last_name", read_only=True)
    last_login = serializers.DateTimeField(
        source="user.last_login", read_only=True, allow_null=True
    )

    class Meta:
        model = OrganisationMembership
        fields = ("id", "email", "first_name", "last_name", "last_login", "role", "date_joined")
        read_only_fields = fields


class RoleInputSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=OrganisationRole.choices)


class UserIdSerializer(serializers.Serializer):
    id = IdField()


class UserIdsInputSerializer(serializers.Serializer):
    user_ids = serializers.ListField(child=IdField(), allow_empty=False, max_length=1000)


class UserGroupSerializer(serializers.ModelSerializer):
    users = UserSummarySerializer(many=True, read_only=True)
    user_ids = serializers.ListField(
        child=IdField(),
        write_only=True,
        required=False,
        max_length=1000,
        help_text="Members to put in the group at creation (members of the organisation).",
    )

    class Meta:
        model = UserGroup
        fields = ("id", "name", "users", "user_ids", "is_default", "external_id")
        read_only_fields = ("id", "users")
        # Uniqueness is checked (case-insensitively) by the service.
        validators: list[object] = []


class UserGroupSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = UserGroup
        fields = ("id", "name")
        read_only_fields = fields


class PermissionKeySerializer(serializers.Serializer):
    key = serializers.CharField()
    description = serializers.CharField()


class MyPermissionsSerializer(serializers.Serializer):
    permissions = serializers.ListField(child=serializers.CharField())
    admin = serializers.BooleanField()
