from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ServiceAdmin
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    feature_create,
    feature_delete,
    feature_state_update,
    feature_update,
)

FEATURE_EDITABLE = (
    "name",
    "description",
    "initial_value",
    "default_enabled",
    "is_archived",
    "is_server_key_only",
)
VALUE_HELP = 'JSON: a string in quotes ("blue"), a 32-bit integer, true/false, or null.'


@admin.register(Feature)
class FeatureAdmin(ServiceAdmin):
    list_display = ("name", "id", "project", "type", "default_enabled", "is_archived")
    list_select_related = ("project",)
    list_filter = ("type", "is_archived")
    search_fields = ("name", "project__name")
    editable_fields = FEATURE_EDITABLE
    create_fields = ("project", *FEATURE_EDITABLE)

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> Feature:
        project, name = data.pop("project"), data.pop("name")
        return feature_create(project=project, name=name, actor=actor, **data)

    def service_update(self, *, obj: Feature, changes: dict[str, Any], actor: Actor) -> Feature:
        return feature_update(feature=obj, actor=actor, **changes)

    def service_delete(self, *, obj: Feature, actor: Actor) -> None:
        feature_delete(feature=obj, actor=actor)


class FeatureStateForm(forms.ModelForm):
    feature_state_value = forms.JSONField(required=False, help_text=VALUE_HELP)

    class Meta:
        model = FeatureState
        fields = ("enabled",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk is not None:
            self.initial["feature_state_value"] = self.instance.value


@admin.register(FeatureState)
class FeatureStateAdmin(ServiceAdmin):
    """Environment defaults and overrides: their value and whether they are enabled. Overrides are
    created and deleted over the API (they need a segment or an identity)."""

    form = FeatureStateForm
    list_display = ("id", "feature", "environment", "identity", "feature_segment", "enabled")
    list_select_related = ("feature", "environment", "identity", "feature_segment__segment")
    list_filter = ("enabled",)
    search_fields = ("feature__name", "environment__name", "identity__identifier")
    editable_fields = ("enabled", "feature_state_value")

    def service_update(
        self, *, obj: FeatureState, changes: dict[str, Any], actor: Actor
    ) -> FeatureState:
        values: dict[str, Any] = {}
        if "feature_state_value" in changes:
            values["value"] = changes["feature_state_value"]
        return feature_state_update(
            feature_state=obj, actor=actor, enabled=changes.get("enabled"), **values
        )
