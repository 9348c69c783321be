"""Management API: ``environments/{api_key}/webhooks/``, ``organisations/{id}/webhooks/``, their
``deliveries/`` logs, and ``webhooks/test/`` (Flagsmith's paths and shapes)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from vexil.common.pagination import PageNumberPagination
from vexil.environments.models import Environment
from vexil.environments.permissions import IsEnvironmentAdmin, is_environment_admin
from vexil.environments.scoping import EnvironmentFromURL, principal_or_404, visible_environment
from vexil.organisations.models import Organisation
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import request_principal
from vexil.webhooks import payloads, selectors, services
from vexil.webhooks.models import Webhook, WebhookDelivery
from vexil.webhooks.serializers import (
    WebhookCreatedSerializer,
    WebhookDeliveryPageSerializer,
    WebhookDeliverySerializer,
    WebhookSerializer,
    WebhookTestSerializer,
)


class IsOrganisationAdmin(IsAuthenticated):
    """An administrator (or admin master key) of the view's organisation; 404 for strangers."""

    def has_permission(self, request: Request, view: Any) -> bool:
        if not super().has_permission(request, view):
            return False
        organisation = view.get_organisation()
        return permission_selectors.is_organisation_admin(
            request_principal(request), organisation.pk
        )


class _WebhookViewSet(viewsets.ModelViewSet):
    serializer_class = WebhookSerializer
    lookup_value_regex = r"\d+"

    def _scope(self) -> dict[str, Any]:
        raise NotImplementedError

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        webhook = services.webhook_create(**self._scope(), **serializer.validated_data)
        body = WebhookCreatedSerializer(webhook, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: BaseSerializer) -> None:
        changes = dict(serializer.validated_data)
        if changes.get("secret", "") is None:
            changes["secret"] = ""
        serializer.instance = services.webhook_update(
            webhook=cast(Webhook, serializer.instance), **changes
        )

    def perform_destroy(self, instance: Webhook) -> None:
        services.webhook_delete(webhook=instance)

    @extend_schema(
        responses=WebhookDeliveryPageSerializer,
        parameters=[
            OpenApiParameter("page", int, required=False),
            OpenApiParameter("page_size", int, required=False),
        ],
    )
    @action(
        detail=True,
        methods=["get"],
        serializer_class=WebhookDeliverySerializer,
        pagination_class=PageNumberPagination,
    )
    def deliveries(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """The delivery log: newest events first, each with every attempt made."""
        webhook = self.get_object()
        rows: QuerySet[WebhookDelivery] = selectors.deliveries_of(webhook)
        page = self.paginate_queryset(rows)
        serializer = WebhookDeliverySerializer(page, many=True)
        return self.get_paginated_response(serializer.data)


class EnvironmentWebhookViewSet(EnvironmentFromURL, _WebhookViewSet):
    """``environments/{api_key}/webhooks/``: flag events of one environment; its admins only.

    Lists are bare arrays, as Flagsmith's.
    """

    queryset = Webhook.objects.none()  # for the schema; get_queryset narrows every request
    permission_classes = [IsAuthenticated, IsEnvironmentAdmin]
    pagination_class = None

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return selectors.environment_webhooks(self.get_environment())

    def _scope(self) -> dict[str, Any]:
        environment = self.get_environment()
        return {"organisation": environment.project.organisation, "environment": environment}


class OrganisationFromURL:
    """The organisation named by ``organisation_pk`` in the URL, among the requester's; 404
    otherwise (a stranger cannot tell it exists)."""

    request: Any
    kwargs: dict[str, Any]

    def get_organisation(self) -> Organisation:
        if not hasattr(self, "_organisation"):
            self._organisation = get_object_or_404(
                permission_selectors.organisations_for(principal_or_404(self.request)),
                pk=self.kwargs["organisation_pk"],
            )
        return self._organisation


class OrganisationWebhookViewSet(OrganisationFromURL, _WebhookViewSet):
    """``organisations/{id}/webhooks/``: audit-log and flag events; organisation admins only."""

    queryset = Webhook.objects.none()
    permission_classes = [IsOrganisationAdmin]

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return selectors.organisation_webhooks(self.get_organisation())

    def _scope(self) -> dict[str, Any]:
        return {"organisation": self.get_organisation()}


def test_outcome_response(outcome: services.TestSendOutcome) -> Response:
    """Flagsmith's answer to a test send: 200 with the receiver's status, or 400 saying why."""
    if outcome.ok:
        return Response({"detail": outcome.detail, "status": outcome.status})
    error: dict[str, Any] = {
        "detail": outcome.detail,
        "code": outcome.code,
        "body": outcome.body,
    }
    if outcome.status is not None:
        error["status"] = outcome.status
    return Response(error, status=status.HTTP_400_BAD_REQUEST)


class WebhookTestView(APIView):
    """``POST webhooks/test/``: send Flagsmith's sample event, signed, and say what came back."""

    permission_classes = [IsAuthenticated]
    serializer_class = WebhookTestSerializer

    def post(self, request: Request) -> Response:
        serializer = WebhookTestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        sample = self._sample_for(request, data["scope"])
        outcome = services.webhook_test_send(
            url=data["webhook_url"], secret=data.get("secret") or "", sample=sample
        )
        return test_outcome_response(outcome)

    def _sample_for(self, request: Request, scope: dict[str, str]) -> dict[str, Any]:
        principal = request_principal(request)
        if scope["type"] == "environment":
            environment: Environment = visible_environment(request, scope["id"])
            if not is_environment_admin(principal, environment):
                raise PermissionDenied
            return payloads.SAMPLE_ENVIRONMENT_EVENT
        if not scope["id"].isdigit():
            raise PermissionDenied
        organisation = get_object_or_404(
            permission_selectors.organisations_for(principal), pk=int(scope["id"])
        )
        if not permission_selectors.is_organisation_admin(principal, organisation.pk):
            raise PermissionDenied
        return payloads.SAMPLE_ORGANISATION_EVENT
