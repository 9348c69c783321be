"""``organisations/`` and its members and groups."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.organisations import selectors, services
from vexil.organisations.models import Organisation, OrganisationMembership, UserGroup
from vexil.organisations.serializers import (
    MemberSerializer,
    MyPermissionsSerializer,
    OrganisationSerializer,
    PermissionKeySerializer,
    RoleInputSerializer,
    UserGroupSerializer,
    UserGroupSummarySerializer,
    UserIdSerializer,
    UserIdsInputSerializer,
)
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import (
    HasOrganisationPermission,
    IsUser,
    request_actor,
    request_principal,
)
from vexil.permissions.keys import OrganisationPermission


def permission_keys(choices: Any) -> list[dict[str, str]]:
    return [{"key": value, "description": label} for value, label in choices.choices]


class OrganisationAccess(BasePermission):
    """Create: a user (not a key). Read: members. Change, delete, remove members: admins."""

    admin_actions = frozenset({"update", "partial_update", "destroy", "remove_users"})

    def has_permission(self, request: Request, view: Any) -> bool:
        if view.action == "create":
            return IsUser().has_permission(request, view)
        return True

    def has_object_permission(self, request: Request, view: Any, obj: Organisation) -> bool:
        if view.action not in self.admin_actions:
            return True
        return permission_selectors.is_organisation_admin(request_principal(request), obj.pk)


class OrganisationViewSet(viewsets.ModelViewSet):
    serializer_class = OrganisationSerializer
    permission_classes = (IsAuthenticated, OrganisationAccess)
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[Organisation]:
        if getattr(self, "swagger_fake_view", False):
            return Organisation.objects.none()
        return selectors.organisations_of(request_principal(self.request))

    def perform_create(self, serializer: BaseSerializer[Organisation]) -> None:
        principal = request_principal(self.request)
        assert not isinstance(principal, permission_selectors.MasterKeyPrincipal)
        data = dict(serializer.validated_data)
        organisation = services.organisation_create(
            name=data.pop("name"), creator=principal, actor=request_actor(self.request), **data
        )
        serializer.instance = self.get_queryset().get(pk=organisation.pk)

    def perform_update(self, serializer: BaseSerializer[Organisation]) -> None:
        assert serializer.instance is not None
        services.organisation_update(
            organisation=serializer.instance,
            actor=request_actor(self.request),
            **serializer.validated_data,
        )
        serializer.instance = self.get_queryset().get(pk=serializer.instance.pk)

    def perform_destroy(self, instance: Organisation) -> None:
        services.organisation_delete(organisation=instance, actor=request_actor(self.request))

    @extend_schema(responses=MyPermissionsSerializer)
    @action(detail=True, methods=["get"], url_path="my-permissions")
    def my_permissions(self, request: Request, pk: str) -> Response:
        organisation = self.get_object()
        principal = request_principal(request)
        keys = permission_selectors.organisation_permissions(principal, organisation)
        admin = permission_selectors.is_organisation_admin(principal, organisation.pk)
        return Response({"permissions": sorted(keys), "admin": admin})

    @extend_schema(request=UserIdSerializer(many=True), responses={204: None})
    @action(detail=True, methods=["post"], url_path="remove-users")
    def remove_users(self, request: Request, pk: str) -> Response:
        organisation = self.get_object()
        serializer = UserIdSerializer(data=request.data, many=True)
        serializer.is_valid(raise_exception=True)
        services.organisation_members_remove(
            organisation=organisation,
            user_ids=[row["id"] for row in serializer.validated_data],
            actor=request_actor(request),
        )
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(responses=PermissionKeySerializer(many=True))
    @action(detail=False, methods=["get"], url_path="permissions", pagination_class=None)
    def permissions(self, request: Request) -> Response:
        return Response(permission_keys(OrganisationPermission))


class OrganisationNestedMixin(GenericAPIView):
    """For views under ``organisations/<organisation_pk>/``: the organisation, or 404."""

    def get_organisation(self) -> Organisation:
        if not hasattr(self, "_organisation"):
            principal = request_principal(self.request)
            organisations = permission_selectors.organisations_for(principal)
            self._organisation = get_object_or_404(
                organisations, pk=_int(self.kwargs["organisation_pk"])
            )
        return self._organisation


def _int(value: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise Http404 from None


class MemberViewSet(OrganisationNestedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """``organisations/{id}/users/``: members with their roles; admins change roles."""

    serializer_class = MemberSerializer
    permission_classes = (IsAuthenticated, HasOrganisationPermission)
    organisation_permissions = {"update_role": OrganisationPermission.MANAGE_USERS}
    pagination_class = None
    lookup_field = "user_id"
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[OrganisationMembership]:
        if getattr(self, "swagger_fake_view", False):
            return OrganisationMembership.objects.none()
        return selectors.members_of(self.get_organisation())

    @extend_schema(request=RoleInputSerializer, responses=MemberSerializer)
    @action(detail=True, methods=["post"], url_path="update-role")
    def update_role(self, request: Request, **kwargs: Any) -> Response:
        membership = self.get_object()
        serializer = RoleInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.organisation_member_role_update(
            membership=membership,
            role=serializer.validated_data["role"],
            actor=request_actor(request),
        )
        return Response(MemberSerializer(self.get_queryset().get(pk=membership.pk)).data)


class UserGroupViewSet(OrganisationNestedMixin, viewsets.ModelViewSet):
    """``organisations/{id}/groups/``: admins manage groups; members see their own."""

    serializer_class = UserGroupSerializer
    permission_classes = (IsAuthenticated, HasOrganisationPermission)
    organisation_permissions = dict.fromkeys(
        ("create", "update", "partial_update", "destroy", "add_users", "remove_users"),
        OrganisationPermission.MANAGE_USER_GROUPS,
    )

    def get_queryset(self) -> QuerySet[UserGroup]:
        if getattr(self, "swagger_fake_view", False):
            return UserGroup.objects.none()
        return selectors.groups_visible_in(self.get_organisation(), request_principal(self.request))

    def perform_create(self, serializer: BaseSerializer[UserGroup]) -> None:
        serializer.instance = services.user_group_create(
            organisation=self.get_organisation(),
            actor=request_actor(self.request),
            **serializer.validated_data,
        )

    def perform_update(self, serializer: BaseSerializer[UserGroup]) -> None:
        assert serializer.instance is not None
        data = dict(serializer.validated_data)
        data.pop("user_ids", None)  # membership changes go through add-users / remove-users
        serializer.instance = services.user_group_update(
            group=serializer.instance, actor=request_actor(self.request), **data
        )

    def perform_destroy(self, instance: UserGroup) -> None:
        services.user_group_delete(group=instance, actor=request_actor(self.request))

    @extend_schema(request=UserIdsInputSerializer, responses=UserGroupSerializer)
    @action(detail=True, methods=["post"], url_path="add-users")
    def add_users(self, request: Request, **kwargs: Any) -> Response:
        group = self.get_object()
        ids = _valid_user_ids(request)
        services.user_group_users_add(group=group, user_ids=ids, actor=request_actor(request))
        return Response(UserGroupSerializer(self.get_queryset().get(pk=group.pk)).data)

    @extend_schema(request=UserIdsInputSerializer, responses=UserGroupSerializer)
    @action(detail=True, methods=["post"], url_path="remove-users")
    def remove_users(self, request: Request, **kwargs: Any) -> Response:
        group = self.get_object()
        ids = _valid_user_ids(request)
        services.user_group_users_remove(group=group, user_ids=ids, actor=request_actor(request))
        return Response(UserGroupSerializer(self.get_queryset().get(pk=group.pk)).data)

    @extend_schema(responses=UserGroupSummarySerializer(many=True))
    @action(detail=False, methods=["get"], url_path="my-groups", pagination_class=None)
    def my_groups(self, request: Request, **kwargs: Any) -> Response:
        groups = selectors.groups_of_user(self.get_organisation(), request_principal(request))
        return Response(UserGroupSummarySerializer(groups, many=True).data)


def _valid_user_ids(request: Request) -> list[int]:
    serializer = UserIdsInputSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return list(serializer.validated_data["user_ids"])
