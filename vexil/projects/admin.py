from __future__ import annotations

from typing import Any

from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ServiceAdmin
from vexil.projects.models import Project
from vexil.projects.services import PROJECT_EDITABLE, project_create, project_delete, project_update


@admin.register(Project)
class ProjectAdmin(ServiceAdmin):
    list_display = ("name", "id", "organisation", "created_date")
    list_select_related = ("organisation",)
    search_fields = ("name", "organisation__name")
    editable_fields = PROJECT_EDITABLE
    create_fields = ("organisation", *PROJECT_EDITABLE)

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> Project:
        organisation, name = data.pop("organisation"), data.pop("name")
        return project_create(organisation=organisation, name=name, actor=actor, **data)

    def service_update(self, *, obj: Project, changes: dict[str, Any], actor: Actor) -> Project:
        return project_update(project=obj, actor=actor, **changes)

    def service_delete(self, *, obj: Project, actor: Actor) -> None:
        project_delete(project=obj, actor=actor)
