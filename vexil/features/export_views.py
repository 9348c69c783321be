"""``environments/{api_key}/feature-export/``: the feature list of an environment as JSON, CSV or
XLSX (``Accept`` or ``?format=json|csv|xlsx``), for anyone who may view the environment."""

from __future__ import annotations

from typing import Any

from django.http.response import HttpResponseBase
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.common.exports import (
    TABULAR_RENDERERS,
    ExportMixin,
    streaming_export,
    tabular_renderer,
)
from vexil.environments.scoping import EnvironmentFromURL
from vexil.features import selectors
from vexil.permissions.drf import HasEnvironmentPermission


class FeatureExportRowSerializer(serializers.Serializer):
    """One exported feature (documents the JSON form)."""

    name = serializers.CharField()
    type = serializers.CharField()
    enabled = serializers.BooleanField(allow_null=True)
    value = serializers.JSONField(allow_null=True)
    tags = serializers.ListField(child=serializers.CharField())
    owners = serializers.ListField(child=serializers.CharField())
    segment_overrides = serializers.CharField(allow_blank=True)
    description = serializers.CharField(allow_blank=True)
    archived = serializers.BooleanField()


class EnvironmentFeatureExportView(ExportMixin, EnvironmentFromURL, APIView):
    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions: dict[str, str] = {}
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, *TABULAR_RENDERERS)

    @extend_schema(responses=FeatureExportRowSerializer(many=True))
    def get(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:
        environment = self.get_environment()
        rows = selectors.environment_feature_export_rows(environment=environment)
        header = selectors.FEATURE_EXPORT_COLUMNS
        renderer = tabular_renderer(request)
        if renderer is not None:
            filename = f"features-{environment.api_key}"
            return streaming_export(renderer, filename=filename, header=header, rows=rows)
        return Response([dict(zip(header, row, strict=True)) for row in rows])
