"""Grants: ``projects/{id}/user-permissions/``, ``projects/{id}/user-group-permissions/``,
``environments/{api_key}/user-permissions/``, ``environments/{api_key}/user-group-permissions/``,
the ``my-permissions`` of an environment, and the lists of permission keys.

Grants are managed by the administrators of their object (project admins for a project;
project admins or environment admins for an environment); anyone else who can see the object
gets 403, and anyone who cannot gets 404.
"""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.organisations.serializers import MyPermissionsSerializer, PermissionKeySerializer
from vexil.organisations.views import permission_keys
from vexil.permissions import selectors, services
from vexil.permissions.drf import request_actor, request_principal
from vexil.permissions.keys import EnvironmentPermission
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.permissions.serializers import (
    EnvironmentGrantUpdateInput,
    EnvironmentGroupGrantInput,
    EnvironmentGroupGrantSerializer,
    EnvironmentUserGrantInput,
    EnvironmentUserGrantSerializer,
    ProjectGrantUpdateInput,
    ProjectGroupGrantInput,
    ProjectGroupGrantSerializer,
    ProjectUserGrantInput,
    ProjectUserGrantSerializer,
)
from vexil.projects.models import Project

Grant = ProjectGrant | EnvironmentGrant


class IsScopeAdmin(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(view.requester_is_admin())


class _GrantViewSet(viewsets.ModelViewSet):
    """Shared CRUD of grants of one kind (user or group) on one kind of object."""

    permission_classes = (IsAuthenticated, IsScopeAdmin)
    pagination_class = None
    grantee: str
    input_class: type[serializers.Serializer]
    update_input_class: type[serializers.Serializer]

    def get_scope(self) -> Project | Environment:
        raise NotImplementedError

    def scope_organisation(self) -> Organisation:
        raise NotImplementedError

    def requester_is_admin(self) -> bool:
        raise NotImplementedError

    def grants(self) -> QuerySet[Any]:
        raise NotImplementedError

    def create_grant(self, **data: Any) -> Grant:
        raise NotImplementedError

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            model = self.get_serializer_class().Meta.model  # type: ignore[attr-defined]
            return model.objects.none()
        grants = self.grants().filter(**{f"{self.grantee}__isnull": False})
        return grants.select_related(self.grantee).order_by("id")

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if not getattr(self, "swagger_fake_view", False):
            context["organisation"] = self.scope_organisation()
        return context

    def _input(self, serializer_class: type[serializers.Serializer], partial: bool) -> Any:
        serializer = serializer_class(
            data=self.request.data, partial=partial, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = self._input(self.input_class, partial=False)
        grant = self.create_grant(actor=request_actor(request), **data)
        return Response(self.get_serializer(grant).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        grant = self.get_object()
        partial = kwargs.pop("partial", False)
        data = self._input(self.update_input_class, partial=partial)
        grant = services.grant_update(grant=grant, actor=request_actor(request), **data)
        return Response(self.get_serializer(grant).data)

    def perform_destroy(self, instance: Grant) -> None:
        services.grant_delete(grant=instance, actor=request_actor(self.request))


class _ProjectGrants(_GrantViewSet):
    lookup_value_regex = r"\d+"
    update_input_class = ProjectGrantUpdateInput

    def get_scope(self) -> Project:
        if not hasattr(self, "_project"):
            visible = selectors.projects_visible_to(request_principal(self.request))
            self._project = get_object_or_404(
                visible.select_related("organisation").distinct(),
                pk=self.kwargs["project_pk"],
            )
        return self._project

    def scope_organisation(self) -> Organisation:
        return self.get_scope().organisation

    def requester_is_admin(self) -> bool:
        return selectors.is_project_admin(request_principal(self.request), self.get_scope())

    def grants(self) -> QuerySet[ProjectGrant]:
        return selectors.grants_on_project(self.get_scope())

    def create_grant(self, **data: Any) -> ProjectGrant:
        return services.project_grant_create(project=self.get_scope(), **data)


class ProjectUserGrantViewSet(_ProjectGrants):
    grantee = "user"
    serializer_class = ProjectUserGrantSerializer
    input_class = ProjectUserGrantInput

    @extend_schema(request=ProjectUserGrantInput, responses={201: ProjectUserGrantSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ProjectGrantUpdateInput, responses=ProjectUserGrantSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ProjectGrantUpdateInput, responses=ProjectUserGrantSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


class ProjectGroupGrantViewSet(_ProjectGrants):
    grantee = "group"
    serializer_class = ProjectGroupGrantSerializer
    input_class = ProjectGroupGrantInput

    @extend_schema(request=ProjectGroupGrantInput, responses={201: ProjectGroupGrantSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=ProjectGrantUpdateInput, responses=ProjectGroupGrantSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(request=ProjectGrantUpdateInput, responses=ProjectGroupGrantSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


def visible_environment(request: Request, api_key: str) -> Environment:
    """The environment with this client key, if the requester may see it; else 404."""
    visible = selectors.environments_visible_to(request_principal(request))
    return get_object_or_404(
        visible.select_related("project__organisation").distinct(), api_key=api_key
    )


class _EnvironmentGrants(_GrantViewSet):
    lookup_value_regex = r"\d+"
    update_input_class = EnvironmentGrantUpdateInput

    def get_scope(self) -> Environment:
        if not hasattr(self, "_environment"):
            self._environment = visible_environment(
                self.request, self.kwargs["environment_api_key"]
            )
        return self._environment

    def scope_organisation(self) -> Organisation:
        return self.get_scope().project.organisation

    def requester_is_admin(self) -> bool:
        return selectors.is_environment_admin(request_principal(self.request), self.get_scope())

    def grants(self) -> QuerySet[EnvironmentGrant]:
        return selectors.grants_on_environment(self.get_scope())

    def create_grant(self, **data: Any) -> EnvironmentGrant:
        return services.environment_grant_create(environment=self.get_scope(), **data)


_API_KEY = OpenApiParameter(
    "environment_api_key",
    OpenApiTypes.STR,
    OpenApiParameter.PATH,
    description="The environment's client-side key.",
)


@extend_schema(parameters=[_API_KEY])
class EnvironmentUserGrantViewSet(_EnvironmentGrants):
    grantee = "user"
    serializer_class = EnvironmentUserGrantSerializer
    input_class = EnvironmentUserGrantInput

    @extend_schema(
        request=EnvironmentUserGrantInput, responses={201: EnvironmentUserGrantSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=EnvironmentGrantUpdateInput, responses=EnvironmentUserGrantSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(request=EnvironmentGrantUpdateInput, responses=EnvironmentUserGrantSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


@extend_schema(parameters=[_API_KEY])
class EnvironmentGroupGrantViewSet(_EnvironmentGrants):
    grantee = "group"
    serializer_class = EnvironmentGroupGrantSerializer
    input_class = EnvironmentGroupGrantInput

    @extend_schema(
        request=EnvironmentGroupGrantInput, responses={201: EnvironmentGroupGrantSerializer}
    )
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().create(request, *args, **kwargs)

    @extend_schema(request=EnvironmentGrantUpdateInput, responses=EnvironmentGroupGrantSerializer)
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().update(request, *args, **kwargs)

    @extend_schema(request=EnvironmentGrantUpdateInput, responses=EnvironmentGroupGrantSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().partial_update(request, *args, **kwargs)


class EnvironmentMyPermissionsView(GenericAPIView):
    permission_classes = (IsAuthenticated,)
    serializer_class = MyPermissionsSerializer

    def get(self, request: Request, environment_api_key: str) -> Response:
        environment = visible_environment(request, environment_api_key)
        principal = request_principal(request)
        keys = selectors.environment_permissions(principal, environment)
        admin = selectors.is_environment_admin(principal, environment)
        return Response({"permissions": sorted(keys), "admin": admin})


class EnvironmentPermissionKeysView(APIView):
    permission_classes = (IsAuthenticated,)

    @extend_schema(responses=PermissionKeySerializer(many=True))
    def get(self, request: Request) -> Response:
        return Response(permission_keys(EnvironmentPermission))
