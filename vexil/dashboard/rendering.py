"""What every dashboard page renders with: its scope, the environment menu and switcher links."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from vexil.dashboard.scope import Scope
from vexil.environments.models import Environment
from vexil.users.selectors import registration_open


@dataclass(frozen=True)
class MenuItem:
    label: str
    url_name: str
    """A URL name under ``dashboard:`` that takes exactly ``project_id`` and ``client_key``."""


# The areas of an environment, in menu order. Each area's views module adds its own line.
ENVIRONMENT_MENU: list[MenuItem] = [
    MenuItem("Features", "dashboard:features"),
    MenuItem("Identities", "dashboard:identities"),
    MenuItem("Evaluate", "dashboard:evaluate"),
    MenuItem("Compare", "dashboard:compare"),
    MenuItem("Audit log", "dashboard:environment-audit"),
    MenuItem("Webhooks", "dashboard:environment-webhooks"),
    MenuItem("Settings", "dashboard:environment-settings"),
]


@dataclass(frozen=True)
class Link:
    label: str
    url: str
    current: bool
    environment: Environment | None = None


def _current_area(request: HttpRequest) -> str:
    """The menu area of this page (its URL name), or Features for pages outside the menu."""
    match = request.resolver_match
    name = f"dashboard:{match.url_name}" if match else ""
    areas = {item.url_name for item in ENVIRONMENT_MENU}
    exact = match is not None and set(match.kwargs) == {"project_id", "client_key"}
    return name if name in areas and exact else ENVIRONMENT_MENU[0].url_name


def _navigation(request: HttpRequest, scope: Scope | None) -> dict[str, Any]:
    if scope is None or scope.project is None:
        return {}
    area = _current_area(request)
    project_id = scope.project.pk
    current_key = scope.environment.api_key if scope.environment else None
    # Switching environment keeps the area: Features in Development -> Features in Production.
    environments = [
        Link(e.name, reverse(area, args=[project_id, e.api_key]), e.api_key == current_key, e)
        for e in scope.environments
    ]
    if current_key is None:
        return {"environment_links": environments}
    match = request.resolver_match
    here = f"dashboard:{match.url_name}" if match else ""
    menu = [
        Link(
            item.label,
            reverse(item.url_name, args=[project_id, current_key]),
            item.url_name == here,
        )
        for item in ENVIRONMENT_MENU
    ]
    return {"environment_links": environments, "environment_menu": menu}


def render_page(
    request: HttpRequest,
    template: str,
    scope: Scope | None,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
) -> HttpResponse:
    page = {
        "scope": scope,
        "registration_open": registration_open(),
        "poll_seconds": f"{settings.DASHBOARD_POLL_SECONDS:g}",
        **_navigation(request, scope),
        **(context or {}),
    }
    return render(request, template, page, status=status)
