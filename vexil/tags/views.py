"""``projects/{id}/tags/``. Writing tags needs CREATE_FEATURE: tags are part of feature editing."""

from __future__ import annotations

from typing import cast

from django.db.models import QuerySet
from rest_framework import viewsets
from rest_framework.permissions import IsAuthenticated
from rest_framework.serializers import BaseSerializer

from vexil.audit.actors import actor_of
from vexil.environments.scoping import ProjectFromURL
from vexil.permissions.drf import HasProjectPermission
from vexil.permissions.keys import ProjectPermission
from vexil.tags import services
from vexil.tags.models import Tag
from vexil.tags.serializers import TagSerializer

_WRITE = ProjectPermission.CREATE_FEATURE


class TagViewSet(ProjectFromURL, viewsets.ModelViewSet):
    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Tag.objects.none()
    serializer_class = TagSerializer
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions = {
        "create": _WRITE,
        "update": _WRITE,
        "partial_update": _WRITE,
        "destroy": _WRITE,
    }

    def get_queryset(self) -> QuerySet[Tag]:
        return Tag.objects.filter(project=self.get_project())

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        serializer.instance = services.tag_create(
            project=self.get_project(), actor=actor_of(self.request), **data
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.tag_update(
            tag=cast(Tag, serializer.instance),
            actor=actor_of(self.request),
            **serializer.validated_data,
        )

    def perform_destroy(self, instance: Tag) -> None:
        services.tag_delete(tag=instance, actor=actor_of(self.request))
