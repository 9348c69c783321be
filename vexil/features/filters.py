from __future__ import annotations

import django_filters
from django.db.models import QuerySet

from vexil.common.fields import ID_MAX, IdFilter
from vexil.features.models import Feature, FeatureSegment, FeatureState, FeatureType

_SORT_FIELDS = {"name": "name", "created_date": "created_date", "id": "id"}


class FeatureFilter(django_filters.FilterSet):
    """Flagsmith's feature list filters. ``environment`` is handled by the view (it prefetches)."""

    search = django_filters.CharFilter(field_name="name", lookup_expr="icontains")
    tags = django_filters.CharFilter(method="filter_tags")
    is_archived = django_filters.BooleanFilter()
    type = django_filters.ChoiceFilter(choices=FeatureType.choices)
    sort_field = django_filters.ChoiceFilter(
        choices=[(name, name) for name in _SORT_FIELDS], method="filter_noop"
    )
    sort_direction = django_filters.ChoiceFilter(
        choices=[("ASC", "ASC"), ("DESC", "DESC")], method="filter_noop"
    )

    class Meta:
        model = Feature
        fields = ("search", "tags", "is_archived", "type")

    def filter_tags(self, queryset: QuerySet[Feature], name: str, value: str) -> QuerySet[Feature]:
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            return queryset.none()
        # An id out of the key range names no tag (and the database would refuse it).
        return queryset.filter(tags__in=[i for i in ids if 1 <= i <= ID_MAX]).distinct()

    def filter_noop(self, queryset: QuerySet[Feature], name: str, value: str) -> QuerySet[Feature]:
        return queryset

    @property
    def qs(self) -> QuerySet[Feature]:
        queryset = super().qs
        field = _SORT_FIELDS.get(self.form.cleaned_data.get("sort_field") or "", "id")
        descending = self.form.cleaned_data.get("sort_direction") == "DESC"
        return queryset.order_by(f"-{field}" if descending else field, "id")


class FeatureStateFilter(django_filters.FilterSet):
    feature = IdFilter(field_name="feature_id")
    feature_name = django_filters.CharFilter(field_name="feature__name")

    class Meta:
        model = FeatureState
        fields = ("feature", "feature_name")


class GenericFeatureStateFilter(FeatureStateFilter):
    environment = IdFilter(field_name="environment_id")

    class Meta:
        model = FeatureState
        fields = ("environment", "feature", "feature_name")


class FeatureSegmentFilter(django_filters.FilterSet):
    environment = IdFilter(field_name="environment_id")
    feature = IdFilter(field_name="feature_id")

    class Meta:
        model = FeatureSegment
        fields = ("environment", "feature")
