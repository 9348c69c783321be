"""Home, and creating and choosing organisations, projects and environments."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.navigation import EnvironmentForm, OrganisationForm, ProjectForm
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import (
    environment_scope,
    last_environment,
    organisation_scope,
    project_scope,
    user_scope,
)
from vexil.environments.services import environment_clone, environment_create
from vexil.organisations.services import organisation_create
from vexil.permissions import selectors as permissions
from vexil.projects.services import project_create

STANDARD_ENVIRONMENTS = ("Development", "Production")


def _environment_page(project_id: int, client_key: str) -> HttpResponse:
    return redirect("dashboard:features", project_id=project_id, client_key=client_key)


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The last environment the user opened, else the first thing they may see."""
    remembered = last_environment(request)
    scope = user_scope(request)
    if remembered is not None:
        visible = permissions.environments_visible_to(scope.user)
        if visible.filter(project_id=remembered[0], api_key=remembered[1]).exists():
            return _environment_page(*remembered)
    if scope.organisations:
        return redirect("dashboard:organisation", organisation_id=scope.organisations[0].pk)
    return render_page(request, "dashboard/navigation/home.html", scope)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_new(request: HttpRequest) -> HttpResponse:
    scope = user_scope(request)
    form = OrganisationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organisation = organisation_create(
                name=form.cleaned_data["name"], creator=scope.user, actor=scope.actor
            )
        except ValidationError as error:
            add_service_errors(form, error, default="name")
        else:
            return redirect("dashboard:organisation", organisation_id=organisation.pk)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/navigation/organisation_new.html", scope, {"form": form}, status=status
    )


@login_required
@require_GET
def organisation(request: HttpRequest, organisation_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    return render_page(request, "dashboard/navigation/organisation.html", scope)


@login_required
@require_http_methods(["GET", "POST"])
def project_new(request: HttpRequest, organisation_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    if not scope.may_create_project:
        raise PermissionDenied
    form = ProjectForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        assert scope.organisation is not None
        environments = STANDARD_ENVIRONMENTS if form.cleaned_data["standard_environments"] else ()
        try:
            project = project_create(
                organisation=scope.organisation,
                name=form.cleaned_data["name"],
                actor=scope.actor,
                environment_names=environments,
            )
        except ValidationError as error:
            add_service_errors(form, error, default="name")
        else:
            return redirect("dashboard:project", project_id=project.pk)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/navigation/project_new.html", scope, {"form": form}, status=status
    )


@login_required
@require_GET
def project(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    return render_page(request, "dashboard/navigation/project.html", scope)


@login_required
@require_http_methods(["GET", "POST"])
def environment_new(request: HttpRequest, project_id: int) -> HttpResponse:
    scope = project_scope(request, project_id)
    if not scope.may_create_environment:
        raise PermissionDenied
    # Cloning takes the source's administrators (the API's rule for clone/).
    sources = [e for e in scope.environments if permissions.is_environment_admin(scope.user, e)]
    form = EnvironmentForm(request.POST or None, sources=sources)
    if request.method == "POST" and form.is_valid():
        assert scope.project is not None
        name, source = form.cleaned_data["name"], form.source()
        try:
            if source is None:
                environment = environment_create(
                    project=scope.project, name=name, actor=scope.actor
                )
            else:
                environment = environment_clone(source=source, name=name, actor=scope.actor)
        except ValidationError as error:
            add_service_errors(form, error, default="name")
        else:
            return _environment_page(project_id, environment.api_key)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/navigation/environment_new.html", scope, {"form": form}, status=status
    )


@login_required
@require_GET
def environment(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    environment_scope(request, project_id, client_key)
    return _environment_page(project_id, client_key)
