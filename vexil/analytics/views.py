from __future__ import annotations

from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.analytics.selectors import feature_evaluation_data
from vexil.analytics.serializers import EvaluationDataQuerySerializer, EvaluationDataSerializer
from vexil.environments.scoping import ProjectFromURL
from vexil.features.models import Feature
from vexil.permissions import selectors
from vexil.permissions.drf import HasProjectPermission, principal_of
from vexil.permissions.keys import EnvironmentPermission


class FeatureEvaluationDataView(ProjectFromURL, APIView):
    """``projects/{id}/features/{feature_id}/evaluation-data/?environment_id=&period=``: how often
    SDKs evaluated the feature in that environment, per day (UTC), from SDK flag analytics."""

    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions: dict[str, str] = {}

    @extend_schema(
        parameters=[EvaluationDataQuerySerializer],
        responses={200: EvaluationDataSerializer(many=True)},
    )
    def get(self, request: Request, project_pk: str, feature_pk: str) -> Response:
        query = EvaluationDataQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        project = self.get_project()
        feature = Feature.objects.filter(project=project, pk=feature_pk).first()
        environment = project.environments.filter(pk=query.validated_data["environment_id"]).first()
        principal = principal_of(request)
        if (
            feature is None
            or environment is None
            or principal is None
            or not selectors.has_environment_permission(
                principal, environment, EnvironmentPermission.VIEW_ENVIRONMENT
            )
        ):
            raise Http404
        data = feature_evaluation_data(
            feature_id=feature.pk,
            environment_id=environment.pk,
            days=query.validated_data["period"],
        )
        return Response(EvaluationDataSerializer(data, many=True).data)
