"""Management views that show evaluation: the environment document and an identity's flags.
Both are computed by ``vexil.evaluation``, the same code the SDK endpoints use."""

from __future__ import annotations

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.environments.scoping import EnvironmentFromURL
from vexil.environments.serializers import IdentityFeatureStateSerializer
from vexil.evaluation.document import build_environment_data
from vexil.evaluation.preview import identity_feature_states
from vexil.identities.models import Identity
from vexil.permissions.drf import HasEnvironmentPermission
from vexil.permissions.keys import EnvironmentPermission


class EnvironmentDocumentView(EnvironmentFromURL, APIView):
    """``environments/{api_key}/document/``: the environment document the SDKs evaluate
    locally (what ``/api/v1/environment-document/`` serves to server-side keys)."""

    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions: dict[str, str] = {}

    @extend_schema(responses={200: OpenApiTypes.OBJECT})
    def get(self, request: Request, environment_api_key: str) -> Response:
        return Response(build_environment_data(self.get_environment().pk).document)


class IdentityAllFeatureStatesView(EnvironmentFromURL, APIView):
    """``environments/{api_key}/identities/{id}/featurestates/all/``: what the identity gets for
    every feature now, and whether an identity or a segment override decided it."""

    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {"get": EnvironmentPermission.VIEW_IDENTITIES}

    @extend_schema(responses={200: IdentityFeatureStateSerializer(many=True)})
    def get(self, request: Request, environment_api_key: str, identity_pk: int) -> Response:
        environment = self.get_environment()
        identity = Identity.objects.filter(environment=environment, pk=identity_pk).first()
        if identity is None:
            raise Http404
        return Response(identity_feature_states(identity))
