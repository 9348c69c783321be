from django.contrib import admin

from vexil.common.models import OutboundEmail


@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("recipient", "subject")
    readonly_fields = tuple(field.name for field in OutboundEmail._meta.fields)
