from __future__ import annotations

import django_filters

from vexil.segments.models import Segment


class SegmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(field_name="name", lookup_expr="icontains")

    class Meta:
        model = Segment
        fields = ("q",)
