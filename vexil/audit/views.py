"""The audit log: ``audit/``, ``audit/{id}/``, ``projects/{id}/audit/`` and
``organisations/{id}/audit/``."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.renderers import BrowsableAPIRenderer, JSONRenderer
from rest_framework.request import Request

from vexil.audit import selectors
from vexil.audit.filters import AuditLogFilter
from vexil.audit.models import AuditLog
from vexil.audit.serializers import AuditLogDetailSerializer, AuditLogSerializer
from vexil.common.exports import (
    TABULAR_RENDERERS,
    ExportMixin,
    streaming_export,
    tabular_renderer,
)
from vexil.organisations.models import Organisation
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import HasOrganisationPermission, request_principal
from vexil.permissions.keys import OrganisationPermission, ProjectPermission


class AuditLogViewSet(ExportMixin, viewsets.ReadOnlyModelViewSet):
    """The audit log; lists also export as CSV or XLSX (``Accept`` or ``?format=csv|xlsx``),
    every matching row, unpaginated, streamed."""

    permission_classes = (IsAuthenticated,)
    filterset_class = AuditLogFilter
    lookup_value_regex = r"\d+"
    renderer_classes = (JSONRenderer, BrowsableAPIRenderer, *TABULAR_RENDERERS)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponseBase:  # type: ignore[override]
        renderer = tabular_renderer(request)
        if renderer is None:
            return super().list(request, *args, **kwargs)
        rows = self.filter_queryset(self.get_queryset())
        return streaming_export(
            renderer,
            filename="audit-log",
            header=selectors.EXPORT_COLUMNS,
            rows=selectors.audit_log_export_rows(rows),
        )

    def get_serializer_class(self) -> type[AuditLogSerializer]:
        return AuditLogDetailSerializer if self.action == "retrieve" else AuditLogSerializer

    def get_queryset(self) -> QuerySet[AuditLog]:
        if getattr(self, "swagger_fake_view", False):
            return AuditLog.objects.none()
        return selectors.audit_logs_visible_to(request_principal(self.request))


class ProjectAuditLogViewSet(AuditLogViewSet):
    """A project's rows: for its administrators and holders of VIEW_AUDIT_LOG; 404 if unseen."""

    def get_queryset(self) -> QuerySet[AuditLog]:
        if getattr(self, "swagger_fake_view", False):
            return AuditLog.objects.none()
        principal = request_principal(self.request)
        project = get_object_or_404(
            permission_selectors.projects_visible_to(principal).distinct(),
            pk=self.kwargs["project_pk"],
        )
        if not permission_selectors.has_project_permission(
            principal, project, ProjectPermission.VIEW_AUDIT_LOG
        ):
            self.permission_denied(self.request, "You may not view this project's audit log.")
        return super().get_queryset().filter(project=project)


class OrganisationAuditLogViewSet(AuditLogViewSet):
    """An organisation's rows: for its administrators."""

    permission_classes = (IsAuthenticated, HasOrganisationPermission)  # type: ignore[assignment]

    @property
    def organisation_permissions(self) -> dict[str, str]:
        return {self.action or "": OrganisationPermission.VIEW_AUDIT_LOG}

    def get_organisation(self) -> Organisation:
        principal = request_principal(self.request)
        return get_object_or_404(
            permission_selectors.organisations_for(principal), pk=self.kwargs["organisation_pk"]
        )

    def get_queryset(self) -> QuerySet[AuditLog]:
        if getattr(self, "swagger_fake_view", False):
            return AuditLog.objects.none()
        return super().get_queryset().filter(organisation_id=self.kwargs["organisation_pk"])
