"""Management API for environments and their server-side keys (Flagsmith's paths)."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.audit.actors import actor_of
from vexil.environments import services
from vexil.environments.filters import EnvironmentFilter
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.environments.permissions import IsEnvironmentAdmin, is_environment_admin
from vexil.environments.scoping import EnvironmentFromURL, principal_or_404
from vexil.environments.serializers import (
    EnvironmentAPIKeyCreatedSerializer,
    EnvironmentAPIKeySerializer,
    EnvironmentCloneSerializer,
    EnvironmentSerializer,
    EnvironmentUpdateSerializer,
)
from vexil.permissions import selectors
from vexil.permissions.keys import ProjectPermission
from vexil.projects.models import Project

_ADMIN_ACTIONS = ("update", "partial_update", "destroy", "clone")


class EnvironmentViewSet(viewsets.ModelViewSet):
    """``environments/?project=``: CRUD by client API key, plus ``clone/``.

    Create needs CREATE_ENVIRONMENT on the project; update, delete and clone need environment
    admin (clone also CREATE_ENVIRONMENT, since it makes a new environment).
    """

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Environment.objects.none()

    lookup_field = "api_key"
    lookup_value_regex = "[^/]+"
    filterset_class = EnvironmentFilter
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[Environment]:
        principal = principal_or_404(self.request)
        return selectors.environments_visible_to(principal).select_related("project__organisation")

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in ("update", "partial_update"):
            return EnvironmentUpdateSerializer
        if self.action == "clone":
            return EnvironmentCloneSerializer
        return EnvironmentSerializer

    def get_environment(self) -> Environment:
        environment: Environment = self.get_object()
        return environment

    def check_object_permissions(self, request: Request, obj: Any) -> None:
        super().check_object_permissions(request, obj)
        if self.action in _ADMIN_ACTIONS and not is_environment_admin(
            principal_or_404(request), obj
        ):
            self.permission_denied(request)
        if self.action == "clone":
            self._require_create_environment(obj.project)

    def _require_create_environment(self, project: Project) -> None:
        principal = principal_or_404(self.request)
        if not selectors.has_project_permission(
            principal, project, ProjectPermission.CREATE_ENVIRONMENT
        ):
            raise PermissionDenied

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        project = data.pop("project")
        self._require_create_environment(project)
        serializer.instance = services.environment_create(
            project=project, actor=actor_of(self.request), **data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.environment_update(
            environment=cast(Environment, serializer.instance),
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Environment) -> None:
        services.environment_delete(environment=instance, actor=actor_of(self.request))

    @extend_schema(request=EnvironmentCloneSerializer, responses={201: EnvironmentSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, api_key: str) -> Response:
        source = self.get_object()
        serializer = EnvironmentCloneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        environment = services.environment_clone(
            source=source, actor=actor_of(request), **serializer.validated_data
        )
        body = EnvironmentSerializer(environment, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)


class EnvironmentAPIKeyViewSet(EnvironmentFromURL, viewsets.ModelViewSet):
    """``environments/{api_key}/api-keys/``: server-side keys; environment admins only."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = EnvironmentAPIKey.objects.none()

    serializer_class = EnvironmentAPIKeySerializer
    permission_classes = [IsAuthenticated, IsEnvironmentAdmin]
    pagination_class = None

    def get_queryset(self) -> QuerySet[EnvironmentAPIKey]:
        return EnvironmentAPIKey.objects.filter(environment=self.get_environment()).select_related(
            "environment__project"
        )

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key, plaintext = services.environment_api_key_create(
            environment=self.get_environment(),
            actor=actor_of(request),
            name=serializer.validated_data["name"],
            expires_at=serializer.validated_data.get("expires_at"),
        )
        context = {**self.get_serializer_context(), "plaintext": plaintext}
        body = EnvironmentAPIKeyCreatedSerializer(key, context=context).data
        return Response(body, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.environment_api_key_update(
            key=cast(EnvironmentAPIKey, serializer.instance),
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: EnvironmentAPIKey) -> None:
        services.environment_api_key_delete(key=instance, actor=actor_of(self.request))
