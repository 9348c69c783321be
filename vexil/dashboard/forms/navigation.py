from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms

from vexil.dashboard.forms import DashboardForm
from vexil.environments.models import Environment


class OrganisationForm(DashboardForm):
    name = forms.CharField(label="Name", max_length=2000)


class ProjectForm(DashboardForm):
    name = forms.CharField(label="Name", max_length=2000)
    standard_environments = forms.BooleanField(
        label="Create Development and Production environments", required=False, initial=True
    )


class EnvironmentForm(DashboardForm):
    name = forms.CharField(label="Name", max_length=2000)
    clone_from = forms.TypedChoiceField(
        label="Copy flags from",
        required=False,
        coerce=int,
        empty_value=None,
        help_text="Start with another environment's flag states and segment overrides.",
    )

    def __init__(self, *args: Any, sources: Sequence[Environment] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sources = {environment.pk: environment for environment in sources}
        choices = [("", "Nothing (start empty)")]
        choices += [(str(pk), environment.name) for pk, environment in self.sources.items()]
        self.fields["clone_from"].choices = choices  # type: ignore[attr-defined]

    def source(self) -> Environment | None:
        pk = self.cleaned_data.get("clone_from")
        return self.sources.get(pk) if pk is not None else None
