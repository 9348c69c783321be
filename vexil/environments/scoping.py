"""View mixins that resolve the project or environment named in the URL, for this requester.

An object the requester may not see answers 404, exactly as one that does not exist, so other
tenants' ids and keys cannot be probed. The result is cached on the view for the request.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from rest_framework.request import Request

from vexil.environments.models import Environment
from vexil.permissions import selectors
from vexil.permissions.drf import principal_of
from vexil.permissions.principals import Principal
from vexil.projects.models import Project


def principal_or_404(request: Request) -> Principal:
    principal = principal_of(request)
    if principal is None:
        raise Http404
    return principal


def visible_project(request: Request, project_id: object) -> Project:
    try:
        pk = int(str(project_id))
    except ValueError:
        raise Http404 from None
    project = (
        selectors.projects_visible_to(principal_or_404(request))
        .select_related("organisation")
        .filter(pk=pk)
        .first()
    )
    if project is None:
        raise Http404
    return project


def visible_environment(request: Request, api_key: object) -> Environment:
    environment = (
        selectors.environments_visible_to(principal_or_404(request))
        .select_related("project__organisation")
        .filter(api_key=str(api_key))
        .first()
    )
    if environment is None:
        raise Http404
    return environment


class ProjectFromURL:
    """For views under ``projects/<project_pk>/``."""

    request: Any
    kwargs: dict[str, Any]

    def get_project(self) -> Project:
        if not hasattr(self, "_project"):
            self._project = visible_project(self.request, self.kwargs["project_pk"])
        return self._project


class EnvironmentFromURL:
    """For views under ``environments/<api_key>/``."""

    request: Any
    kwargs: dict[str, Any]
    environment_url_kwarg = "environment_api_key"

    def get_environment(self) -> Environment:
        if not hasattr(self, "_environment"):
            self._environment = visible_environment(
                self.request, self.kwargs[self.environment_url_kwarg]
            )
        return self._environment
