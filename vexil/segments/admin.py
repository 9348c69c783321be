from __future__ import annotations

from typing import Any

from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ServiceAdmin
from vexil.segments.models import Segment
from vexil.segments.services import segment_delete, segment_update


@admin.register(Segment)
class SegmentAdmin(ServiceAdmin):
    """Name and description here; rules are edited over the API or the dashboard."""

    list_display = ("name", "id", "project", "feature", "updated_at")
    list_select_related = ("project", "feature")
    search_fields = ("name", "project__name")
    editable_fields = ("name", "description")

    def service_update(self, *, obj: Segment, changes: dict[str, Any], actor: Actor) -> Segment:
        return segment_update(segment=obj, actor=actor, **changes)

    def service_delete(self, *, obj: Segment, actor: Actor) -> None:
        segment_delete(segment=obj, actor=actor)
