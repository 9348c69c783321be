from __future__ import annotations

from typing import Any

from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ServiceAdmin
from vexil.organisations.models import Organisation
from vexil.organisations.services import (
    ORGANISATION_EDITABLE,
    ORGANISATION_OPERATOR_SETTINGS,
    organisation_create,
    organisation_delete,
    organisation_operator_update,
)


@admin.register(Organisation)
class OrganisationAdmin(ServiceAdmin):
    list_display = ("name", "id", "stop_serving_flags", "persist_trait_data", "created_date")
    search_fields = ("name",)
    # The operator's own settings (stop serving flags, persist traits) are edited only here.
    editable_fields = (*ORGANISATION_EDITABLE, *ORGANISATION_OPERATOR_SETTINGS)
    create_fields = ORGANISATION_EDITABLE

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> Organisation:
        name = data.pop("name")
        # As over the API, the creator becomes the organisation's first administrator.
        return organisation_create(name=name, creator=actor.user, actor=actor, **data)

    def service_update(
        self, *, obj: Organisation, changes: dict[str, Any], actor: Actor
    ) -> Organisation:
        return organisation_operator_update(organisation=obj, actor=actor, **changes)

    def service_delete(self, *, obj: Organisation, actor: Actor) -> None:
        organisation_delete(organisation=obj, actor=actor)
