"""Management API for identities, their overrides and traits, under an environment."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from vexil.audit.actors import actor_of
from vexil.environments.scoping import EnvironmentFromURL
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    feature_state_update,
    identity_override_create,
    identity_overrides_clone,
    override_state_delete,
)
from vexil.identities import services
from vexil.identities.filters import IdentityFilter
from vexil.identities.models import Identity, Trait
from vexil.identities.selectors import environment_trait_keys
from vexil.identities.serializers import (
    CloneFromIdentitySerializer,
    DeletedTraitsSerializer,
    DeleteTraitsSerializer,
    IdentityOverrideSerializer,
    IdentitySerializer,
    TraitKeysSerializer,
    TraitSerializer,
)
from vexil.permissions.drf import HasEnvironmentPermission
from vexil.permissions.keys import EnvironmentPermission

_VIEW = EnvironmentPermission.VIEW_IDENTITIES
_MANAGE = EnvironmentPermission.MANAGE_IDENTITIES
IDENTITY_PERMISSIONS = {
    "list": _VIEW,
    "retrieve": _VIEW,
    "create": _MANAGE,
    "update": _MANAGE,
    "partial_update": _MANAGE,
    "destroy": _MANAGE,
}


class IdentityViewSet(
    EnvironmentFromURL,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """``environments/{api_key}/identities/`` (``?q=`` search, ``?q="x"`` exact)."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Identity.objects.none()

    serializer_class = IdentitySerializer
    filterset_class = IdentityFilter
    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = IDENTITY_PERMISSIONS

    def get_queryset(self) -> QuerySet[Identity]:
        return Identity.objects.filter(environment=self.get_environment())

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.identity_create(
            environment=self.get_environment(),
            identifier=serializer.validated_data["identifier"],
            actor=actor_of(self.request),
        )

    def perform_destroy(self, instance: Identity) -> None:
        services.identity_delete(identity=instance, actor=actor_of(self.request))


class IdentityScoped(EnvironmentFromURL):
    def get_identity(self) -> Identity:
        if not hasattr(self, "_identity"):
            identity = (
                Identity.objects.filter(
                    environment=self.get_environment(), pk=self.kwargs["identity_pk"]
                )
                .select_related("environment__project")
                .first()
            )
            if identity is None:
                raise Http404
            self._identity = identity
        return self._identity


class IdentityOverrideViewSet(IdentityScoped, viewsets.ModelViewSet):
    """``environments/{api_key}/identities/{id}/featurestates/``: the identity's overrides."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = FeatureState.objects.none()

    serializer_class = IdentityOverrideSerializer
    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {**IDENTITY_PERMISSIONS, "clone_from_given_identity": _MANAGE}
    pagination_class = None

    def get_queryset(self) -> QuerySet[FeatureState]:
        return (
            FeatureState.objects.filter(identity=self.get_identity())
            .select_related("environment__project", "feature")
            .prefetch_related("multivariate_feature_state_values")
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = serializer.validated_data
        identity = self.get_identity()
        feature = Feature.objects.filter(
            project_id=identity.environment.project_id, pk=data["feature_id"]
        ).first()
        if feature is None:
            raise ValidationError(
                {"feature": [f'Invalid pk "{data["feature_id"]}" - object does not exist.']}
            )
        serializer.instance = identity_override_create(
            feature=feature,
            identity_id=identity.pk,
            environment=identity.environment,
            enabled=data.get("enabled", False),
            value=data.get("value"),
            actor=actor_of(self.request),
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = serializer.validated_data
        changes: dict[str, Any] = {}
        if "enabled" in data:
            changes["enabled"] = data["enabled"]
        if "value" in data:
            changes["value"] = data["value"]
        serializer.instance = feature_state_update(
            feature_state=cast(FeatureState, serializer.instance),
            actor=actor_of(self.request),
            **changes,
        )

    def perform_destroy(self, instance: FeatureState) -> None:
        override_state_delete(feature_state=instance, actor=actor_of(self.request))

    @extend_schema(
        request=CloneFromIdentitySerializer, responses={200: IdentityOverrideSerializer(many=True)}
    )
    @action(detail=False, methods=["post"], url_path="clone-from-given-identity")
    def clone_from_given_identity(self, request: Request, **kwargs: Any) -> Response:
        """Replace this identity's overrides with copies of another identity's, from the same
        environment: ``{"source_identity_id": <id>}``. Answers the identity's new overrides."""
        serializer = CloneFromIdentitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        identity_overrides_clone(
            source_id=serializer.validated_data["source_identity_id"],
            target=self.get_identity(),
            actor=actor_of(request),
        )
        return Response(self.get_serializer(self.get_queryset().order_by("id"), many=True).data)


class TraitViewSet(IdentityScoped, viewsets.ModelViewSet):
    """``environments/{api_key}/identities/{id}/traits/``; DELETE with
    ``?deleteAllMatchingTraits=true`` removes the key from every identity of the environment."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Trait.objects.none()

    serializer_class = TraitSerializer
    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = IDENTITY_PERMISSIONS
    pagination_class = None

    def get_queryset(self) -> QuerySet[Trait]:
        return Trait.objects.filter(identity=self.get_identity()).select_related(
            "identity__environment__project"
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.trait_create(
            identity=self.get_identity(),
            trait_key=serializer.validated_data["trait_key"],
            value=serializer.validated_data["trait_value"],
            actor=actor_of(self.request),
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.trait_update(
            trait=cast(Trait, serializer.instance),
            value=serializer.validated_data["trait_value"],
            actor=actor_of(self.request),
        )

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        trait = self.get_object()
        traits = [trait]
        if request.query_params.get("deleteAllMatchingTraits") == "true":
            traits = list(
                Trait.objects.filter(
                    identity__environment=self.get_environment(), trait_key=trait.trait_key
                ).select_related("identity__environment__project")
            )
        services.traits_delete(traits=traits, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


class TraitKeysView(EnvironmentFromURL, APIView):
    """``environments/{api_key}/trait-keys/``: the distinct trait keys of the environment's
    identities, ``{"keys": [...]}`` (sorted)."""

    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {"get": _VIEW}

    @extend_schema(responses={200: TraitKeysSerializer})
    def get(self, request: Request, environment_api_key: str) -> Response:
        return Response({"keys": environment_trait_keys(self.get_environment())})


class DeleteTraitsView(EnvironmentFromURL, APIView):
    """``environments/{api_key}/delete-traits/``: ``{"key": "..."}`` deletes that trait from
    every identity of the environment."""

    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {"post": _MANAGE}

    @extend_schema(request=DeleteTraitsSerializer, responses={200: DeletedTraitsSerializer})
    def post(self, request: Request, environment_api_key: str) -> Response:
        serializer = DeleteTraitsSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deleted = services.environment_traits_delete(
            environment=self.get_environment(),
            trait_key=serializer.validated_data["key"],
            actor=actor_of(request),
        )
        return Response({"key": serializer.validated_data["key"], "deleted": deleted})
