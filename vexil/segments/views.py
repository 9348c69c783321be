"""Management API for segments: ``projects/{id}/segments/`` with nested rules and conditions."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.audit.actors import actor_of
from vexil.environments.scoping import ProjectFromURL
from vexil.permissions.drf import HasProjectPermission
from vexil.permissions.keys import ProjectPermission
from vexil.segments import services
from vexil.segments.filters import SegmentFilter
from vexil.segments.models import Segment
from vexil.segments.selectors import segment_rule_trees
from vexil.segments.serializers import SegmentSerializer

_MANAGE = ProjectPermission.MANAGE_SEGMENTS


class SegmentViewSet(ProjectFromURL, viewsets.ModelViewSet):
    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Segment.objects.none()
    serializer_class = SegmentSerializer
    filterset_class = SegmentFilter
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions = {
        "create": _MANAGE,
        "update": _MANAGE,
        "partial_update": _MANAGE,
        "destroy": _MANAGE,
    }

    def get_queryset(self) -> QuerySet[Segment]:
        return Segment.objects.filter(project=self.get_project())

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if "project_pk" in self.kwargs:
            context["project"] = self.get_project()
        return context

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        segments = list(page) if page is not None else []
        context = {**self.get_serializer_context(), "rule_trees": segment_rule_trees(segments)}
        data = SegmentSerializer(segments, many=True, context=context).data
        return self.get_paginated_response(data)

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.segment_create(
            project=self.get_project(),
            actor=actor_of(self.request),
            name=data["name"],
            description=data.get("description", ""),
            feature=data.get("feature_id"),
            rules=data.get("rules", []),
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        changes: dict[str, Any] = {}
        if "feature_id" in data:
            changes["feature"] = data["feature_id"]
        serializer.instance = services.segment_update(
            segment=cast(Segment, serializer.instance),
            actor=actor_of(self.request),
            name=data.get("name"),
            description=data.get("description"),
            rules=data.get("rules"),
            **changes,
        )

    def perform_destroy(self, instance: Segment) -> None:
        services.segment_delete(segment=instance, actor=actor_of(self.request))
