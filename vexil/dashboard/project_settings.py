"""Project settings: name, the settings that change what SDKs get, deletion with confirmation.

For the project's administrators only, as ``PUT``/``DELETE projects/{id}/`` in the management
API (``is_project_admin``); the same services write, audit and move the environments' revision.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from vexil.dashboard.forms.settings import DeleteConfirmForm, ProjectSettingsForm
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.projects import services


def is_project_admin(scope: Scope) -> bool:
    return scope.is_project_admin


def _page(
    request: HttpRequest, scope: Scope, form: ProjectSettingsForm, *, status: int = 200
) -> HttpResponse:
    return render_page(
        request, "dashboard/settings/project.html", scope, {"form": form}, status=status
    )


@page(read=[is_project_admin])
def project_settings(request: HttpRequest, scope: Scope) -> HttpResponse:
    initial = ProjectSettingsForm.initial_of(scope.current_project)
    return _page(request, scope, ProjectSettingsForm(initial=initial))


@page(methods=["POST"], read=[is_project_admin])
def project_settings_save(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = ProjectSettingsForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        project = services.project_update(project=scope.current_project, actor=scope.actor, **data)
        return redirect("dashboard:project-settings", project.pk)

    return submit(form, save) or _page(request, scope, form, status=400)


@page(methods=["GET", "POST"], read=[is_project_admin])
def project_delete(request: HttpRequest, scope: Scope) -> HttpResponse:
    project = scope.current_project
    form = DeleteConfirmForm(request.POST or None, expected=project.name)
    if request.method == "POST" and form.is_valid():
        services.project_delete(project=project, actor=scope.actor)
        return redirect("dashboard:organisation", project.organisation_id)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/settings/project_delete.html", scope, {"form": form}, status=status
    )
