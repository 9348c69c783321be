from __future__ import annotations

from typing import Any

import django_filters

from vexil.organisations.models import Organisation
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.drf import principal_of
from vexil.projects.models import Project


def _visible_organisations(request: Any) -> Any:
    principal = principal_of(request) if request is not None else None
    if principal is None:
        return Organisation.objects.none()
    return permission_selectors.organisations_for(principal)


class ProjectFilter(django_filters.FilterSet):
    organisation = django_filters.ModelChoiceFilter(queryset=_visible_organisations)

    class Meta:
        model = Project
        fields = ("organisation",)
