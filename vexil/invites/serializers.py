"""Flagsmith's shapes for invites and invite links."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from vexil.common.fields import IdField
from vexil.invites.models import Invite, InviteLink
from vexil.organisations.models import OrganisationRole


class InviterSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    email = serializers.EmailField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()


class InviteSerializer(serializers.ModelSerializer):
    """An e-mail invite as the list, retrieve and create answers show it (never its hash)."""

    invited_by = InviterSerializer(read_only=True, allow_null=True)
    permission_groups: serializers.PrimaryKeyRelatedField[Any] = serializers.PrimaryKeyRelatedField(
        many=True, read_only=True
    )

    class Meta:
        model = Invite
        fields = (
            "id",
            "email",
            "role",
            "date_created",
            "expires_at",
            "invited_by",
            "permission_groups",
        )
        read_only_fields = fields


class InviteInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    role = serializers.ChoiceField(choices=OrganisationRole.choices, default=OrganisationRole.USER)
    permission_groups = serializers.ListField(
        child=IdField(), required=False, allow_null=True, max_length=100, default=list
    )

    def validate_permission_groups(self, value: list[int] | None) -> list[int]:
        return list(value or [])


class MultiInvitesInputSerializer(serializers.Serializer):
    """``organisations/{id}/invite/``: ``invites`` with roles and groups, or legacy ``emails``."""

    invites = serializers.ListField(child=InviteInputSerializer(), required=False, max_length=100)
    emails = serializers.ListField(
        child=serializers.EmailField(max_length=254), required=False, max_length=100
    )
    frontend_base_url = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Ignored (Flagsmith's)."
    )

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs.get("invites") and not attrs.get("emails"):
            raise serializers.ValidationError("Give `invites` or `emails`.")
        return attrs


class InviteLinkSerializer(serializers.ModelSerializer):
    hash = serializers.CharField(read_only=True)

    class Meta:
        model = InviteLink
        fields = ("id", "hash", "date_created", "role", "expires_at")
        read_only_fields = ("id", "hash", "date_created")
