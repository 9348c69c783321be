from __future__ import annotations

from typing import Any

from rest_framework import serializers

from vexil.common.models import OutboundEmail
from vexil.invites.selectors import SignUpType
from vexil.users.models import User


class TokenOutputSerializer(serializers.Serializer):
    key = serializers.CharField(help_text="Send as `Authorization: Token <key>`. Shown once.")


class SignUpOutputSerializer(serializers.Serializer):
    detail = serializers.CharField(
        required=False, help_text="Check your e-mail to finish signing up (no account yet)."
    )
    key = serializers.CharField(
        required=False,
        help_text="Only with the hash of an e-mail invite for the address: the new account's "
        "token.",
    )


class SignUpConfirmInputSerializer(serializers.Serializer):
    token = serializers.CharField(max_length=100, help_text="The token in the e-mailed link.")


class RegisterInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})
    first_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    last_name = serializers.CharField(max_length=150, required=False, allow_blank=True)
    sign_up_type = serializers.ChoiceField(
        choices=SignUpType.CHOICES,
        required=False,
        help_text="Flagsmith's: with an invite, sign-up works while registration without one "
        "is closed.",
    )
    invite_hash = serializers.CharField(
        max_length=100, required=False, allow_blank=True, allow_null=True
    )
    # Flagsmith's dashboard sends these; Vexil stores nothing of them.
    marketing_consent_given = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        attrs.pop("marketing_consent_given", None)
        attrs["invite_hash"] = attrs.get("invite_hash") or ""
        return attrs


class LoginInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, style={"input_type": "password"})


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = (
            "id",
            "email",
            "first_name",
            "last_name",
            "last_login",
            "date_joined",
            "is_superuser",
        )
        read_only_fields = ("id", "last_login", "date_joined", "is_superuser")
        extra_kwargs = {"email": {"required": False}}


class UserSummarySerializer(serializers.ModelSerializer):
    """A user as other members of an organisation see them."""

    class Meta:
        model = User
        fields = ("id", "email", "first_name", "last_name")
        read_only_fields = fields


class SetPasswordInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class DeleteAccountInputSerializer(serializers.Serializer):
    current_password = serializers.CharField(
        max_length=128,
        required=False,
        allow_blank=True,
        default="",
        style={"input_type": "password"},
        help_text="Required unless the account has no password (e.g. single sign-on only).",
    )


class PasswordResetInputSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)


class PasswordResetConfirmInputSerializer(serializers.Serializer):
    uid = serializers.CharField(max_length=64)
    token = serializers.CharField(max_length=128)
    new_password = serializers.CharField(max_length=128, style={"input_type": "password"})
    re_new_password = serializers.CharField(max_length=128, style={"input_type": "password"})


class TwoFactorCodeInputSerializer(serializers.Serializer):
    code = serializers.CharField(max_length=32)


class TwoFactorLoginInputSerializer(serializers.Serializer):
    ephemeral_token = serializers.CharField(max_length=512)
    code = serializers.CharField(max_length=32)


class OutboundEmailSerializer(serializers.ModelSerializer):
    class Meta:
        model = OutboundEmail
        fields = (
            "id",
            "kind",
            "recipient",
            "subject",
            "status",
            "attempts",
            "last_error",
            "created_at",
            "updated_at",
            "sent_at",
        )
        read_only_fields = fields
