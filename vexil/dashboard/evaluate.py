"""Evaluate: type an identifier and traits and see every flag an SDK would get, with the reason
for each. Nothing is stored: the query string carries the input, so a result is bookmarkable.

Reading stored identities needs VIEW_IDENTITIES (the evaluation lends the stored identity's
traits and overrides), as in the management API.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from vexil.dashboard.forms.identities import EvaluateForm
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import environment_scope
from vexil.evaluation.explain import evaluation_preview
from vexil.permissions.keys import EnvironmentPermission


@login_required
@require_GET
def evaluate(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = environment_scope(request, project_id, client_key)
    if not scope.may(EnvironmentPermission.VIEW_IDENTITIES):
        raise PermissionDenied
    asked = "identifier" in request.GET
    form = EvaluateForm(request.GET if asked else None)
    preview = None
    if asked and form.is_valid():
        preview = evaluation_preview(
            environment_id=scope.current_environment.pk,
            identifier=form.cleaned_data["identifier"],
            traits=form.cleaned_data["traits"],
        )
    status = 400 if asked and not form.is_valid() else 200
    context = {"form": form, "preview": preview}
    return render_page(request, "dashboard/evaluate/page.html", scope, context, status=status)
