"""Home, and creating and choosing organisations, projects and environments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from vexil.dashboard.forms.navigation import EnvironmentForm, OrganisationForm, ProjectForm
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, last_environment
from vexil.environments.services import environment_clone, environment_create
from vexil.organisations.services import organisation_create
from vexil.permissions import selectors as permissions
from vexil.permissions.keys import OrganisationPermission, ProjectPermission
from vexil.projects.services import project_create

STANDARD_ENVIRONMENTS = ("Development", "Production")


def _environment_page(project_id: int, client_key: str) -> HttpResponse:
    return redirect("dashboard:features", project_id=project_id, client_key=client_key)


@page()
def home(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The last environment the user opened, else the first thing they may see."""
    remembered = last_environment(request)
    if remembered is not None:
        visible = permissions.environments_visible_to(scope.user)
        if visible.filter(project_id=remembered[0], api_key=remembered[1]).exists():
            return _environment_page(*remembered)
    if scope.organisations:
        return redirect("dashboard:organisation", organisation_id=scope.organisations[0].pk)
    return render_page(request, "dashboard/navigation/home.html", scope)


@page(methods=["GET", "POST"])
def organisation_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = OrganisationForm(request.POST or None)

    def save(data: dict[str, Any]) -> HttpResponse:
        organisation = organisation_create(name=data["name"], creator=scope.user, actor=scope.actor)
        return redirect("dashboard:organisation", organisation_id=organisation.pk)

    return _form_page(request, scope, form, save, "dashboard/navigation/organisation_new.html")


def _form_page(
    request: HttpRequest,
    scope: Scope,
    form: forms.Form,
    save: Callable[[dict[str, Any]], HttpResponse],
    template: str,
) -> HttpResponse:
    """A page whose one form creates something: on a good POST, ``save``'s answer; else the
    page, with the form's errors (400) after a refused POST."""
    if request.method == "POST" and (saved := submit(form, save, default="name")):
        return saved
    status = 400 if request.method == "POST" else 200
    return render_page(request, template, scope, {"form": form}, status=status)


@page()
def organisation(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_page(request, "dashboard/navigation/organisation.html", scope)


@page(methods=["GET", "POST"], read=[OrganisationPermission.CREATE_PROJECT])
def project_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = ProjectForm(request.POST or None)

    def save(data: dict[str, Any]) -> HttpResponse:
        assert scope.organisation is not None
        environments = STANDARD_ENVIRONMENTS if data["standard_environments"] else ()
        project = project_create(
            organisation=scope.organisation,
            name=data["name"],
            actor=scope.actor,
            environment_names=environments,
        )
        return redirect("dashboard:project", project_id=project.pk)

    return _form_page(request, scope, form, save, "dashboard/navigation/project_new.html")


@page()
def project(request: HttpRequest, scope: Scope) -> HttpResponse:
    return render_page(request, "dashboard/navigation/project.html", scope)


@page(methods=["GET", "POST"], read=[ProjectPermission.CREATE_ENVIRONMENT])
def environment_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    # Cloning takes the source's administrators (the API's rule for clone/).
    sources = [e for e in scope.environments if permissions.is_environment_admin(scope.user, e)]
    form = EnvironmentForm(request.POST or None, sources=sources)

    def save(data: dict[str, Any]) -> HttpResponse:
        project, name, source = scope.current_project, data["name"], form.source()
        if source is None:
            environment = environment_create(project=project, name=name, actor=scope.actor)
        else:
            environment = environment_clone(source=source, name=name, actor=scope.actor)
        return _environment_page(project.pk, environment.api_key)

    return _form_page(request, scope, form, save, "dashboard/navigation/environment_new.html")


@page()
def environment(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _environment_page(scope.current_project.pk, scope.current_environment.api_key)
