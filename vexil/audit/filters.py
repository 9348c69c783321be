from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from vexil.audit.models import AuditLog
from vexil.common.fields import IdFilter, IdInFilter


class AuditLogFilter(django_filters.FilterSet):
    """``?project=<id>``, ``?environments=<id>,<id>``, ``?search=<text in the log line>``.

    The ids are matched within rows the requester may already see, so naming another tenant's
    project simply finds nothing.
    """

    project = IdFilter(field_name="project_id")
    environments = IdInFilter(field_name="environment_id")
    search = django_filters.CharFilter(method="filter_search", max_length=200)

    class Meta:
        model = AuditLog
        fields = ("project", "environments", "search")

    def filter_search(
        self, queryset: QuerySet[AuditLog], name: str, value: str
    ) -> QuerySet[AuditLog]:
        return queryset.filter(log__icontains=value) if value else queryset
