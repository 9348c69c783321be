"""Compare environments: every feature's default state and value in this environment and
another of the project, side by side, differences marked. Read-only, bookmarkable
(``?with=<client key>``); only environments the user may see can be picked."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_GET

from vexil.dashboard.forms import DashboardForm
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import environment_scope
from vexil.environments.models import Environment
from vexil.environments.selectors import environments_compare


class CompareForm(DashboardForm):
    other = forms.ChoiceField(label="Compare with")
    only_differences = forms.BooleanField(label="Only differences", required=False)

    def __init__(self, *args: Any, environments: list[Environment], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.environments = {e.api_key: e for e in environments}
        self.fields["other"].choices = [(e.api_key, e.name) for e in environments]  # type: ignore[attr-defined]

    def selected(self) -> Environment | None:
        return self.environments[self.cleaned_data["other"]] if self.is_valid() else None


@login_required
@require_GET
def compare(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = environment_scope(request, project_id, client_key)
    here = scope.current_environment
    others = [e for e in scope.environments if e.pk != here.pk]
    form = CompareForm(request.GET if "other" in request.GET else None, environments=others)
    other = form.selected()
    rows = environments_compare(here, other) if other is not None else []
    differences = sum(1 for row in rows if row.differs)
    if other is not None and form.cleaned_data["only_differences"]:
        rows = [row for row in rows if row.differs]
    status = 400 if form.is_bound and other is None else 200
    context = {"form": form, "other": other, "rows": rows, "differences": differences}
    return render_page(request, "dashboard/compare/page.html", scope, context, status=status)
