from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from vexil.identities.models import Identity


class IdentityFilter(django_filters.FilterSet):
    """``?q=ali`` finds identifiers containing "ali"; ``?q="alice"`` only "alice" itself."""

    q = django_filters.CharFilter(method="search")

    class Meta:
        model = Identity
        fields = ("q",)

    def search(self, queryset: QuerySet[Identity], name: str, value: str) -> QuerySet[Identity]:
        if len(value) >= 2 and value.startswith('"') and value.endswith('"'):
            return queryset.filter(identifier=value[1:-1])
        return queryset.filter(identifier__icontains=value)
