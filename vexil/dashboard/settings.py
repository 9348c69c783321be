"""Environment settings: the client key (with a copy button), server-side keys (created and
shown once, revoked), the settings that change evaluation, and deletion with confirmation.

Anyone who may see the environment sees its client key (every client-side SDK holds it);
everything else is for the environment's administrators, as in the management API.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache

from vexil.dashboard.forms.settings import (
    DeleteConfirmForm,
    EnvironmentSettingsForm,
    ServerKeyForm,
)
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.environments import selectors, services


def _is_admin(scope: Scope) -> bool:
    return scope.is_environment_admin


def _to_settings(scope: Scope) -> HttpResponse:
    return redirect(
        "dashboard:environment-settings",
        scope.current_project.pk,
        scope.current_environment.api_key,
    )


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


@page()
def environment_settings(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _page(request, scope)


@page(methods=["POST"], write=[_is_admin])
def environment_settings_save(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = EnvironmentSettingsForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        services.environment_update(
            environment=scope.current_environment, actor=scope.actor, **form.changes()
        )
        return _to_settings(scope)

    return submit(form, save) or _page(request, scope, form=form, status=400)


@never_cache
@page(methods=["POST"], write=[_is_admin])
def server_key_create(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The new key is in this response only: it is stored as a digest and never shown again."""
    form = ServerKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, scope, key_form=form, status=400)
    _, plaintext = services.environment_api_key_create(
        environment=scope.current_environment, name=form.cleaned_data["name"], actor=scope.actor
    )
    return _page(request, scope, new_key=plaintext, status=201)


@page(methods=["POST"], write=[_is_admin])
def server_key_revoke(request: HttpRequest, scope: Scope, key_id: int) -> HttpResponse:
    key = selectors.environment_server_key(scope.current_environment, key_id)
    if key is None:
        raise Http404
    services.environment_api_key_delete(key=key, actor=scope.actor)
    return _to_settings(scope)


@page(methods=["GET", "POST"], read=[_is_admin])
def environment_delete(request: HttpRequest, scope: Scope) -> HttpResponse:
    environment = scope.current_environment
    form = DeleteConfirmForm(request.POST or None, expected=environment.name)
    if request.method == "POST" and form.is_valid():
        services.environment_delete(environment=environment, actor=scope.actor)
        return redirect("dashboard:project", scope.current_project.pk)
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/settings/environment_delete.html", scope, {"form": form}, status=status
    )
