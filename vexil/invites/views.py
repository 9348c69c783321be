"""The invite endpoints (Flagsmith's routes): an organisation's invites and invite links, for
those who may manage its users; joining by a hash, for any signed-in person."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from vexil.invites import selectors, services
from vexil.invites.models import Invite, InviteLink
from vexil.invites.serializers import (
    InviteInputSerializer,
    InviteLinkSerializer,
    InviteSerializer,
    MultiInvitesInputSerializer,
)
from vexil.organisations.selectors import organisations_of
from vexil.organisations.serializers import OrganisationSerializer
from vexil.organisations.views import OrganisationNestedMixin
from vexil.permissions.drf import HasOrganisationPermission, IsUser, request_actor
from vexil.permissions.keys import OrganisationPermission
from vexil.users.models import User
from vexil.users.throttles import AuthRateThrottle


class InviteRefused(exceptions.APIException):
    status_code = 400
    default_code = "invalid"

    def __init__(self, error: services.InviteRefusedError, status_code: int = 400) -> None:
        super().__init__(error.message, error.code)
        self.status_code = status_code


def _refused(error: services.InviteRefusedError) -> InviteRefused:
    if isinstance(error, services.InviteLinksDisabledError):
        return InviteRefused(error, 403)
    return InviteRefused(error)


def _inviter(request: Request) -> User | None:
    return request.user if isinstance(request.user, User) else None


class InviteThrottle(AuthRateThrottle):
    """``INVITE_THROTTLE_RATE`` per client address on sending invites (Flagsmith's ``invite``)."""


class _EveryAction(dict[str, str]):
    def get(self, key: str, default: Any = None) -> str:
        return OrganisationPermission.MANAGE_USERS


class _ManageUsers(OrganisationNestedMixin):
    permission_classes = (IsAuthenticated, HasOrganisationPermission)
    # Every action, reads included: invites name people who are not members yet.
    organisation_permissions = _EveryAction()


class MultiInviteView(_ManageUsers, APIView):
    """``POST organisations/{id}/invite/``: invite several addresses, each e-mailed its link."""

    throttle_classes = (InviteThrottle,)
    throttle_scope = "invite"
    queryset = Invite.objects.none()  # the schema's model
    pagination_class = None  # answers a bare list (Flagsmith's), and the schema says so

    @extend_schema(
        request=MultiInvitesInputSerializer, responses={201: InviteSerializer(many=True)}
    )
    def post(self, request: Request, organisation_pk: str) -> Response:
        serializer = MultiInvitesInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        wanted = [
            services.InviteRequest(row["email"], row["role"], row["permission_groups"])
            for row in data.get("invites", [])
        ] + [services.InviteRequest(email) for email in data.get("emails", [])]
        try:
            invites = _invites_create(self, request, wanted)
        except services.InvitesInvalidError as error:
            raise exceptions.ValidationError(
                _bulk_problems(error.problems, len(data.get("invites", [])))
            ) from None
        return Response(InviteSerializer(invites, many=True).data, status=status.HTTP_201_CREATED)


def _bulk_problems(problems: list[dict[str, list[str]]], invites: int) -> dict[str, Any]:
    """Flagsmith's shape: ``invites`` one object per entry (``{}`` for a good one), as DRF gives
    a list of objects; the legacy ``emails`` a flat list of messages."""
    body: dict[str, Any] = {}
    if any(problems[:invites]):
        body["invites"] = problems[:invites]
    emails = [m for problem in problems[invites:] for ms in problem.values() for m in ms]
    if emails:
        body["emails"] = emails
    return body


def _invites_create(
    view: OrganisationNestedMixin, request: Request, wanted: list[services.InviteRequest]
) -> list[Invite]:
    try:
        return services.invites_create(
            organisation=view.get_organisation(),
            invites=wanted,
            invited_by=_inviter(request),
            actor=request_actor(request),
            request=request._request,
        )
    except services.InviteRefusedError as error:
        raise _refused(error) from None


class InviteViewSet(
    _ManageUsers,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """``organisations/{id}/invites/``: pending e-mail invites; one more, resend, revoke."""

    serializer_class = InviteSerializer
    lookup_value_regex = r"\d+"
    throttle_scope = "invite"

    def get_throttles(self) -> list[Any]:
        return [InviteThrottle()] if self.action in ("create", "resend") else []

    def get_queryset(self) -> QuerySet[Invite]:
        if getattr(self, "swagger_fake_view", False):
            return Invite.objects.none()
        return selectors.invites_of(self.get_organisation())

    @extend_schema(request=InviteInputSerializer, responses={201: InviteSerializer})
    def create(self, request: Request, **kwargs: Any) -> Response:
        serializer = InviteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = serializer.validated_data
        wanted = services.InviteRequest(row["email"], row["role"], row["permission_groups"])
        try:
            [invite] = _invites_create(self, request, [wanted])
        except services.InvitesInvalidError as error:
            raise exceptions.ValidationError(error.problems[0]) from None
        return Response(InviteSerializer(invite).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: Invite) -> None:
        services.invite_delete(invite=instance, actor=request_actor(self.request))

    @extend_schema(request=None, responses={200: None})
    @action(detail=True, methods=["post"])
    def resend(self, request: Request, **kwargs: Any) -> Response:
        services.invite_resend(
            invite=self.get_object(), actor=request_actor(request), request=request._request
        )
        return Response(status=status.HTTP_200_OK)


class InviteLinkViewSet(
    _ManageUsers,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """``organisations/{id}/invite-links/``: shareable links with a role and an expiry."""

    serializer_class = InviteLinkSerializer
    pagination_class = None
    lookup_value_regex = r"\d+"

    def get_queryset(self) -> QuerySet[InviteLink]:
        if getattr(self, "swagger_fake_view", False):
            return InviteLink.objects.none()
        return selectors.invite_links_of(self.get_organisation())

    def perform_create(self, serializer: BaseSerializer[InviteLink]) -> None:
        try:
            serializer.instance = services.invite_link_create(
                organisation=self.get_organisation(),
                actor=request_actor(self.request),
                **serializer.validated_data,
            )
        except services.InviteRefusedError as error:
            raise InviteRefused(error) from None

    def perform_destroy(self, instance: InviteLink) -> None:
        services.invite_link_delete(link=instance, actor=request_actor(self.request))


class _JoinView(APIView):
    permission_classes = (IsAuthenticated, IsUser)
    throttle_classes = (AuthRateThrottle,)
    throttle_scope = "auth"
    accept = staticmethod(services.invite_accept)

    @extend_schema(request=None, responses={200: OrganisationSerializer})
    def post(self, request: Request, invite_hash: str) -> Response:
        user = request.user
        assert isinstance(user, User)
        try:
            membership = type(self).accept(user=user, invite_hash=invite_hash)
        except services.InviteNotFoundError:
            raise exceptions.NotFound("No invite matches the given query.") from None
        except services.InviteRefusedError as error:
            raise _refused(error) from None
        organisation = get_object_or_404(organisations_of(user), pk=membership.organisation_id)
        return Response(OrganisationSerializer(organisation).data)


class JoinByInviteView(_JoinView):
    """``POST users/join/{hash}/``: accept an e-mail invite (the invited address only, once)."""


class JoinByLinkView(_JoinView):
    """``POST users/join/link/{hash}/``: join by an invite link."""

    accept = staticmethod(services.invite_link_accept)
