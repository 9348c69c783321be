"""Environment settings: the client key (with a copy button), server-side keys (created and
shown once, revoked), the settings that change evaluation, and deletion with confirmation.

Anyone who may see the environment sees its client key (every client-side SDK holds it);
everything else is for the environment's administrators, as in the management API.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.settings import (
    DeleteConfirmForm,
    EnvironmentSettingsForm,
    ServerKeyForm,
)
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, environment_scope
from vexil.environments import selectors, services


def _admin_scope(request: HttpRequest, project_id: int, client_key: str) -> Scope:
    scope = environment_scope(request, project_id, client_key)
    if not scope.is_environment_admin:
        raise PermissionDenied
    return scope


def _page(
    request: HttpRequest,
    scope: Scope,
    *,
    form: EnvironmentSettingsForm | None = None,
    key_form: ServerKeyForm | None = None,
    new_key: str | None = None,
    status: int = 200,
) -> HttpResponse:
    environment = scope.current_environment
    context: dict[str, Any] = {"may_manage": scope.is_environment_admin, "new_key": new_key}
    if scope.is_environment_admin:
        context.update(
            form=form
            or EnvironmentSettingsForm(initial=EnvironmentSettingsForm.initial_of(environment)),
            key_form=key_form or ServerKeyForm(),
            keys=list(selectors.environment_server_keys(environment)),
        )
    response = render_page(
        request, "dashboard/settings/environment.html", scope, context, status=status
    )
    if new_key is not None:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def environment_settings(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    return _page(request, environment_scope(request, project_id, client_key))


@login_required
@require_POST
def environment_settings_save(
    request: HttpRequest, project_id: int, client_key: str
) -> HttpResponse:
    scope = _admin_scope(request, project_id, client_key)
    form = EnvironmentSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.environment_update(
                environment=scope.current_environment, actor=scope.actor, **form.changes()
            )
        except ValidationError as error:
            add_service_errors(form, error, default=None)
        else:
            return redirect("dashboard:environment-settings", project_id, client_key)
    return _page(request, scope, form=form, status=400)


@login_required
@require_POST
@never_cache
def server_key_create(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    """The new key is in this response only: it is stored as a digest and never shown again."""
    scope = _admin_scope(request, project_id, client_key)
    form = ServerKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, scope, key_form=form, status=400)
    _, plaintext = services.environment_api_key_create(
        environment=scope.current_environment, name=form.cleaned_data["name"], actor=scope.actor
    )
    return _page(request, scope, new_key=plaintext, status=201)


@login_required
@require_POST
def server_key_revoke(
    request: HttpRequest, project_id: int, client_key: str, key_id: int
) -> HttpResponse:
    scope = _admin_scope(request, project_id, client_key)
    key = selectors.environment_server_key(scope.current_environment, key_id)
    if key is None:
        raise Http404
    services.environment_api_key_delete(key=key, actor=scope.actor)
    return redirect("dashboard:environment-settings", project_id, client_key)


@login_required
@require_http_methods(["GET", "POST"])
def environment_delete(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = _admin_scope(request, project_id, client_key)
    environment = scope.current_environment
    form = DeleteConfirmForm(request.POST or None, expected=environment.name)
    if request.method == "POST" and form.is_valid():
        services.environment_delete(environment=environment, actor=scope.actor)
        return redirect("dashboard:project", project_id)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/settings/environment_delete.html", scope, {"form": form}, status=status
    )
