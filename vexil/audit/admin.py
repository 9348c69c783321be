from __future__ import annotations

from django.contrib import admin

from vexil.audit.models import AuditLog
from vexil.common.admin import ReadOnlyAdmin


@admin.register(AuditLog)
class AuditLogAdmin(ReadOnlyAdmin):
    list_display = (
        "created_date",
        "log",
        "action",
        "author",
        "master_api_key_name",
        "organisation",
    )
    list_filter = ("action", "resource_type")
    list_select_related = ("author", "organisation")
    search_fields = ("log",)
    date_hierarchy = "created_date"
