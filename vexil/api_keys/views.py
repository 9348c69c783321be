"""``organisations/{id}/master-api-keys/``: an organisation's administrators manage its keys.

A master key cannot manage master keys (a leaked key must not be able to mint or keep others).
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.api_keys import selectors, services
from vexil.api_keys.models import MasterAPIKey
from vexil.api_keys.serializers import MasterAPIKeyCreatedSerializer, MasterAPIKeySerializer
from vexil.organisations.views import OrganisationNestedMixin
from vexil.permissions.drf import HasOrganisationPermission, IsUser, request_actor
from vexil.permissions.keys import OrganisationPermission


class MasterAPIKeyViewSet(OrganisationNestedMixin, viewsets.ModelViewSet):
    serializer_class = MasterAPIKeySerializer
    permission_classes = (IsAuthenticated, IsUser, HasOrganisationPermission)
    lookup_field = "prefix"
    lookup_value_regex = r"[A-Za-z0-9]+"
    pagination_class = None

    @property
    def organisation_permissions(self) -> dict[str, str]:
        return {self.action or "": OrganisationPermission.MANAGE_API_KEYS}

    def get_queryset(self) -> QuerySet[MasterAPIKey]:
        if getattr(self, "swagger_fake_view", False):
            return MasterAPIKey.objects.none()
        return selectors.master_api_keys_of(self.get_organisation().pk)

    @extend_schema(responses={201: MasterAPIKeyCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = MasterAPIKeySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("revoked"):
            return Response(
                {"detail": "A key cannot be created revoked.", "code": "invalid"}, status=400
            )
        key, plaintext = services.master_api_key_create(
            organisation=self.get_organisation(),
            name=data["name"],
            is_admin=data.get("is_admin", True),
            expiry_date=data.get("expiry_date"),
            actor=request_actor(request),
        )
        body = MasterAPIKeyCreatedSerializer(key).data
        return Response({**body, "key": plaintext}, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: BaseSerializer[MasterAPIKey]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.master_api_key_update(
            key=serializer.instance, actor=request_actor(self.request), **serializer.validated_data
        )

    def perform_destroy(self, instance: MasterAPIKey) -> None:
        """Deleting a key revokes it: it stops working at once, and its row keeps the audit
        trail's key name meaningful."""
        services.master_api_key_revoke(key=instance, actor=request_actor(self.request))
