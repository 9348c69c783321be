from __future__ import annotations

from typing import Any

from django.contrib import admin

from vexil.audit.services import Actor
from vexil.common.admin import ReadOnlyAdmin, ServiceAdmin
from vexil.identities.models import Identity, Trait
from vexil.identities.services import identity_create, identity_delete


@admin.register(Identity)
class IdentityAdmin(ServiceAdmin):
    """Identifiers never change; traits and overrides are managed over the API."""

    list_display = ("identifier", "id", "environment", "created_date")
    list_select_related = ("environment",)
    search_fields = ("identifier",)
    create_fields = ("environment", "identifier")

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> Identity:
        return identity_create(
            environment=data["environment"], identifier=data["identifier"], actor=actor
        )

    def service_delete(self, *, obj: Identity, actor: Actor) -> None:
        identity_delete(identity=obj, actor=actor)


@admin.register(Trait)
class TraitAdmin(ReadOnlyAdmin):
    list_display = ("trait_key", "value_type", "identity", "created_date")
    list_select_related = ("identity",)
    search_fields = ("trait_key", "identity__identifier")
