"""``projects/``: list what the requester may see; create in an organisation one belongs to."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.organisations.serializers import MyPermissionsSerializer, PermissionKeySerializer
from vexil.organisations.views import permission_keys
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import request_actor, request_principal
from vexil.permissions.keys import OrganisationPermission, ProjectPermission
from vexil.projects import selectors, services
from vexil.projects.filters import ProjectFilter
from vexil.projects.models import Project
from vexil.projects.serializers import ProjectSerializer, ProjectUpdateSerializer


class ProjectAccess(BasePermission):
    """Read: anyone who can see the project. Change and delete: project administrators."""

    admin_actions = frozenset({"update", "partial_update", "destroy"})

    def has_object_permission(self, request: Request, view: Any, obj: Project) -> bool:
        if view.action not in self.admin_actions:
            return True
        return permission_selectors.is_project_admin(request_principal(request), obj)


class ProjectViewSet(viewsets.ModelViewSet):
    permission_classes = (IsAuthenticated, ProjectAccess)
    filterset_class = ProjectFilter
    pagination_class = None  # Flagsmith answers a plain list here
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Project]:
        if getattr(self, "swagger_fake_view", False):
            return Project.objects.none()
        return selectors.projects_of(request_principal(self.request))

    def get_serializer_class(self) -> type[ProjectSerializer]:
        if self.action in ("update", "partial_update"):
            return ProjectUpdateSerializer
        return ProjectSerializer

    def perform_create(self, serializer: BaseSerializer[Project]) -> None:
        data = dict(serializer.validated_data)
        organisation = data.pop("organisation")
        principal = request_principal(self.request)
        allowed = permission_selectors.organisation_permissions(principal, organisation)
        if OrganisationPermission.CREATE_PROJECT not in allowed:
            raise exceptions.PermissionDenied(
                "Only administrators may create projects in this organisation."
            )
        serializer.instance = services.project_create(
            organisation=organisation,
            name=data.pop("name"),
            actor=request_actor(self.request),
            **data,
        )

    def perform_update(self, serializer: BaseSerializer[Project]) -> None:
        assert serializer.instance is not None
        serializer.instance = services.project_update(
            project=serializer.instance,
            actor=request_actor(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Project) -> None:
        services.project_delete(project=instance, actor=request_actor(self.request))

    @extend_schema(responses=MyPermissionsSerializer)
    @action(detail=True, methods=["get"], url_path="my-permissions")
    def my_permissions(self, request: Request, pk: str) -> Response:
        project = self.get_object()
        principal = request_principal(request)
        keys = permission_selectors.project_permissions(principal, project)
        admin = permission_selectors.is_project_admin(principal, project)
        return Response({"permissions": sorted(keys), "admin": admin})

    @extend_schema(responses=PermissionKeySerializer(many=True), filters=False)
    @action(detail=False, methods=["get"], url_path="permissions", filterset_class=None)
    def permissions(self, request: Request) -> Response:
        return Response(permission_keys(ProjectPermission))
