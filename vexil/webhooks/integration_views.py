"""Management API of integrations, on Flagsmith's routes where it has them.

``projects/{id}/integrations/datadog/`` and ``.../grafana/`` (project admins),
``organisations/{id}/integrations/grafana/`` (organisation admins), and
``environments/{api_key}/integrations/slack/`` and ``.../json-webhook/`` (environment admins).
Lists are bare arrays, as Flagsmith's; one integration of a kind per project or environment; keys
and Slack's secret URL are write-only. Each has the ``deliveries/`` log of a webhook, and
``test/`` (POST) sends it a sample event at once.
"""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.common.pagination import PageNumberPagination
from vexil.environments.permissions import IsEnvironmentAdmin
from vexil.environments.scoping import EnvironmentFromURL, ProjectFromURL
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import principal_of
from vexil.webhooks import selectors, services
from vexil.webhooks.models import DestinationKind, Webhook, WebhookDelivery
from vexil.webhooks.serializers import (
    DatadogSerializer,
    GrafanaSerializer,
    JSONWebhookSerializer,
    SlackSerializer,
    WebhookDeliveryPageSerializer,
    WebhookDeliverySerializer,
    WebhookTestResultSerializer,
)
from vexil.webhooks.views import IsOrganisationAdmin, OrganisationFromURL, test_outcome_response

OPTION_FIELDS = ("use_custom_source",)


class IsProjectAdmin(BasePermission):
    """The view's ``get_project()`` must be administered by the requester."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        return permission_selectors.is_project_admin(principal, view.get_project())


class _IntegrationViewSet(viewsets.ModelViewSet):
    kind: str = ""
    pagination_class = None
    lookup_value_regex = r"\d+"
    queryset = Webhook.objects.none()  # for the schema; get_queryset narrows every request

    def _scope(self) -> dict[str, Any]:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Webhook]:
        if getattr(self, "swagger_fake_view", False):
            return Webhook.objects.none()
        return selectors.integrations_of(kind=self.kind, **self._scope())

    def perform_create(self, serializer: BaseSerializer) -> None:
        fields, options = _split(dict(serializer.validated_data))
        serializer.instance = services.integration_create(
            kind=self.kind, options=options, **self._scope(), **fields
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        fields, options = _split(dict(serializer.validated_data))
        if options:
            fields["options"] = options
        serializer.instance = services.integration_update(
            integration=cast(Webhook, serializer.instance), **fields
        )

    def perform_destroy(self, instance: Webhook) -> None:
        services.integration_delete(integration=instance)

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
        rows: QuerySet[WebhookDelivery] = selectors.deliveries_of(self.get_object())
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(WebhookDeliverySerializer(page, many=True).data)

    @extend_schema(request=None, responses=WebhookTestResultSerializer)
    @action(detail=True, methods=["post"], serializer_class=WebhookTestResultSerializer)
    def test(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Send a sample event in the integration's format, now, to where its deliveries go
        (Flagsmith's ``webhooks/test/`` answers: 200, or 400 saying why). Nothing is logged."""
        outcome = services.integration_test_send(integration=self.get_object())
        return test_outcome_response(outcome)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)
        return Response(serializer.data, status=status.HTTP_201_CREATED)


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    options = {name: data.pop(name) for name in OPTION_FIELDS if name in data}
    return data, options


class _ProjectIntegrationViewSet(ProjectFromURL, _IntegrationViewSet):
    permission_classes = [IsAuthenticated, IsProjectAdmin]

    def _scope(self) -> dict[str, Any]:
        return {"project": self.get_project()}


class _EnvironmentIntegrationViewSet(EnvironmentFromURL, _IntegrationViewSet):
    permission_classes = [IsAuthenticated, IsEnvironmentAdmin]

    def _scope(self) -> dict[str, Any]:
        return {"environment": self.get_environment()}


class DatadogViewSet(_ProjectIntegrationViewSet):
    """Datadog events for the project's audit log."""

    kind = DestinationKind.DATADOG
    serializer_class = DatadogSerializer


class GrafanaViewSet(_ProjectIntegrationViewSet):
    """Grafana annotations for the project's audit log."""

    kind = DestinationKind.GRAFANA
    serializer_class = GrafanaSerializer


class OrganisationGrafanaViewSet(OrganisationFromURL, _IntegrationViewSet):
    """Flagsmith's organisation-level Grafana: annotations for the audit log of the
    organisation's projects that have no Grafana integration of their own."""

    kind = DestinationKind.GRAFANA
    serializer_class = GrafanaSerializer
    permission_classes = [IsOrganisationAdmin]

    def _scope(self) -> dict[str, Any]:
        return {"organisation": self.get_organisation()}


class SlackViewSet(_EnvironmentIntegrationViewSet):
    """Slack messages for the environment's flag changes."""

    kind = DestinationKind.SLACK
    serializer_class = SlackSerializer


class JSONWebhookViewSet(_EnvironmentIntegrationViewSet):
    """A flat JSON summary of the environment's flag changes, signed as webhooks are."""

    kind = DestinationKind.JSON
    serializer_class = JSONWebhookSerializer
