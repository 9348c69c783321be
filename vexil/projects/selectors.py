from __future__ import annotations

from django.db.models import QuerySet

from vexil.permissions import selectors as permission_selectors
from vexil.permissions.principals import Principal
from vexil.projects.models import Project


def projects_of(principal: Principal) -> QuerySet[Project]:
    """Projects the principal may see (see ``vexil.permissions.selectors``), by id."""
    return permission_selectors.projects_visible_to(principal).distinct().order_by("id")
