"""Flagsmith's feature export / import routes (protocol notes §7). Thin: services do the work.

Who may do what is Flagsmith's: exports need environment admin, imports (destructive)
organisation admin, the lists project visibility (showing only the environments the requester
administers). An environment or export the requester cannot see answers 404, as unknown ones do.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from vexil.environments.models import Environment
from vexil.environments.scoping import ProjectFromURL, principal_or_404
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import HasProjectPermission, request_actor
from vexil.portability import selectors, services
from vexil.portability.models import FeatureExport, FeatureImport, FileStatus
from vexil.portability.serializers import (
    FeatureExportCreateSerializer,
    FeatureExportSerializer,
    FeatureImportCreateSerializer,
    FeatureImportListSerializer,
    FeatureImportSerializer,
)

_PK_MAX = 2**63 - 1


def _environment_or_404(request: Request, environment_id: object) -> Environment:
    try:
        pk = int(str(environment_id))
    except ValueError:
        raise Http404 from None
    if not 0 < pk <= _PK_MAX:
        raise Http404
    environment = (
        permission_selectors.environments_visible_to(principal_or_404(request))
        .select_related("project__organisation")
        .filter(pk=pk)
        .first()
    )
    if environment is None:
        raise Http404
    return environment


def _require_environment_admin(request: Request, environment: Environment) -> None:
    if not permission_selectors.is_environment_admin(principal_or_404(request), environment):
        raise PermissionDenied


class FeatureExportCreateView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=FeatureExportCreateSerializer, responses={201: FeatureExportSerializer})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FeatureExportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        environment = _environment_or_404(request, serializer.validated_data["environment_id"])
        _require_environment_admin(request, environment)
        export = services.feature_export_create(
            environment=environment,
            tag_ids=serializer.validated_data["tag_ids"],
            actor=request_actor(request),
        )
        return Response(FeatureExportSerializer(export).data, status=status.HTTP_201_CREATED)


class FeatureExportDownloadView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OpenApiResponse(description="The export file (a JSON array)")})
    def get(self, request: Request, export_id: int, *args: Any, **kwargs: Any) -> Response:
        export = selectors.feature_export_for(
            principal=principal_or_404(request), export_id=min(export_id, _PK_MAX)
        )
        if export is None:
            raise Http404
        _require_environment_admin(request, export.environment)
        if export.status != FileStatus.SUCCESS:
            raise ValidationError(
                {"detail": f"Unable to download export with status {export.status!r}."}
            )
        disposition = f"attachment; filename=feature_export.{export.pk}.json"
        return Response(export.data, headers={"Content-Disposition": disposition})


class ProjectFeatureExportListView(ProjectFromURL, generics.ListAPIView[FeatureExport]):
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions: dict[str, str] = {}
    serializer_class = FeatureExportSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return FeatureExport.objects.none()
        return selectors.project_feature_exports(
            principal=principal_or_404(self.request), project=self.get_project()
        )


class FeatureImportCreateView(APIView):
    permission_classes = [IsAuthenticated]
    parser_classes = [MultiPartParser]

    @extend_schema(request=FeatureImportCreateSerializer, responses={201: FeatureImportSerializer})
    def post(self, request: Request, environment_id: int, *args: Any, **kwargs: Any) -> Response:
        environment = _environment_or_404(request, environment_id)
        principal = principal_or_404(request)
        if not permission_selectors.is_organisation_admin(
            principal, environment.project.organisation_id
        ):
            raise PermissionDenied
        serializer = FeatureImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = serializer.validated_data["file"]
        content = upload.read(services.IMPORT_FILE_MAX_BYTES + 1)
        row = services.feature_import_create(
            environment=environment,
            strategy=serializer.validated_data["strategy"],
            content=content,
            actor=request_actor(request),
        )
        return Response(FeatureImportSerializer(row).data, status=status.HTTP_201_CREATED)


class ProjectFeatureImportListView(ProjectFromURL, generics.ListAPIView[FeatureImport]):
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions: dict[str, str] = {}
    serializer_class = FeatureImportListSerializer

    def get_queryset(self) -> Any:
        if getattr(self, "swagger_fake_view", False):
            return FeatureImport.objects.none()
        return selectors.project_feature_imports(
            principal=principal_or_404(self.request), project=self.get_project()
        )
