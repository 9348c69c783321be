from __future__ import annotations

from typing import Any

from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ReadOnlyAdmin, ServiceAdmin
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.environments.services import (
    ENVIRONMENT_SETTINGS,
    environment_create,
    environment_delete,
    environment_update,
)


@admin.register(Environment)
class EnvironmentAdmin(ServiceAdmin):
    list_display = ("name", "api_key", "project", "revision", "updated_at")
    list_select_related = ("project",)
    search_fields = ("name", "api_key", "project__name")
    editable_fields = ENVIRONMENT_SETTINGS
    create_fields = ("project", *ENVIRONMENT_SETTINGS)

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> Environment:
        project, name = data.pop("project"), data.pop("name")
        return environment_create(project=project, name=name, actor=actor, **data)

    def service_update(
        self, *, obj: Environment, changes: dict[str, Any], actor: Actor
    ) -> Environment:
        return environment_update(environment=obj, actor=actor, **changes)

    def service_delete(self, *, obj: Environment, actor: Actor) -> None:
        environment_delete(environment=obj, actor=actor)


@admin.register(EnvironmentAPIKey)
class EnvironmentAPIKeyAdmin(ReadOnlyAdmin):
    """Server-side keys: only a digest is stored; keys are made and revoked over the API."""

    list_display = ("name", "prefix", "environment", "active", "created_at", "expires_at")
    list_select_related = ("environment",)
    exclude = ("digest",)
