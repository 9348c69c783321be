"""Management API for segments: ``projects/{id}/segments/`` with nested rules and conditions."""

from __future__ import annotations

from typing import Any, cast

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer

from vexil.audit.actors import actor_of
from vexil.environments.scoping import ProjectFromURL, principal_or_404
from vexil.features.serializers import FeatureSegmentSerializer
from vexil.permissions import selectors
from vexil.permissions.drf import HasProjectPermission
from vexil.permissions.keys import ProjectPermission
from vexil.segments import services
from vexil.segments.filters import SegmentFilter
from vexil.segments.models import Segment
from vexil.segments.selectors import segment_overrides_of, segment_rule_trees
from vexil.segments.serializers import (
    AssociatedFeaturesQuerySerializer,
    SegmentCloneSerializer,
    SegmentSerializer,
)

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
        "clone": _MANAGE,
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

    @extend_schema(request=SegmentCloneSerializer, responses={201: SegmentSerializer})
    @action(detail=True, methods=["post"])
    def clone(self, request: Request, project_pk: str, pk: str) -> Response:
        """A copy of the segment (description, feature, rules) under a new ``name``; the
        overrides that use the segment are not copied."""
        segment = self.get_object()
        serializer = SegmentCloneSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        clone = services.segment_clone(
            segment=segment, name=serializer.validated_data["name"], actor=actor_of(request)
        )
        body = SegmentSerializer(clone, context=self.get_serializer_context()).data
        return Response(body, status=status.HTTP_201_CREATED)

    @extend_schema(
        parameters=[OpenApiParameter("environment", int, description="an environment id")],
        responses={200: FeatureSegmentSerializer(many=True)},
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="associated-features",
        filterset_class=None,
        serializer_class=FeatureSegmentSerializer,
    )
    def associated_features(self, request: Request, project_pk: str, pk: str) -> Response:
        """The segment overrides that use this segment, in the environments the requester may
        see (``?environment=<id>`` narrows to one)."""
        segment = self.get_object()
        environments = selectors.environments_visible_to(principal_or_404(request))
        query = AssociatedFeaturesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        environment_id = query.validated_data.get("environment")
        if environment_id is not None:
            environments = environments.filter(pk=environment_id)
        overrides = segment_overrides_of(segment, environments)
        page = self.paginate_queryset(overrides)
        data = FeatureSegmentSerializer(page, many=True).data
        return self.get_paginated_response(data)
