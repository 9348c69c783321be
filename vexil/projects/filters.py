from __future__ import annotations

import django_filters

from vexil.common.fields import IdFilter
from vexil.projects.models import Project


class ProjectFilter(django_filters.FilterSet):
    # A plain id filter over the projects the requester may already see: another tenant's
    # organisation id is a valid integer (the schema says so) and simply matches nothing, as in
    # Flagsmith, instead of a 400 that tells apart ids that exist from ids that do not.
    organisation = IdFilter(field_name="organisation_id")

    class Meta:
        model = Project
        fields = ("organisation",)
