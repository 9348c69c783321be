from __future__ import annotations

from django.contrib import admin

from vexil.api_keys.models import MasterAPIKey
from vexil.common.admin import ReadOnlyAdmin


@admin.register(MasterAPIKey)
class MasterAPIKeyAdmin(ReadOnlyAdmin):
    """Organisation master keys: only a hash is stored; keys are made and revoked over the API."""

    list_display = (
        "name",
        "prefix",
        "organisation",
        "is_admin",
        "revoked",
        "created",
        "expiry_date",
    )
    list_select_related = ("organisation",)
    exclude = ("hashed_key",)
