from __future__ import annotations

import django_filters

from vexil.common.fields import IdFilter
from vexil.environments.models import Environment


class EnvironmentFilter(django_filters.FilterSet):
    project = IdFilter(field_name="project_id")

    class Meta:
        model = Environment
        fields = ("project",)
