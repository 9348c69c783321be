from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from vexil.identities.models import Identity
from vexil.identities.selectors import identifier_search


class IdentityFilter(django_filters.FilterSet):
    """``?q=ali`` finds identifiers containing "ali"; ``?q="alice"`` only "alice" itself."""

    q = django_filters.CharFilter(method="search")

    class Meta:
        model = Identity
        fields = ("q",)

    def search(self, queryset: QuerySet[Identity], name: str, value: str) -> QuerySet[Identity]:
        return queryset.filter(identifier_search(value))
