"""Forms of the settings pages: an environment's settings, server-side keys, deletion."""

from __future__ import annotations

from typing import Any

from django import forms

from vexil.dashboard.forms import DashboardForm
from vexil.environments.models import Environment
from vexil.organisations.models import OrganisationRole

_HIDE_DISABLED = {"": None, "yes": True, "no": False}


class EnvironmentSettingsForm(DashboardForm):
    """The settings ``environment_update`` takes; those that change evaluation say how."""

    name = forms.CharField(label="Name", max_length=2000)
    description = forms.CharField(
        label="Description", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    hide_disabled_flags = forms.ChoiceField(
        label="Hide disabled flags",
        required=False,
        choices=[("", "As the project says"), ("yes", "Yes"), ("no", "No")],
        help_text="SDKs do not receive flags that are off.",
    )
    allow_client_traits = forms.BooleanField(
        label="Client-side SDKs may set traits", required=False
    )
    hide_sensitive_data = forms.BooleanField(
        label="Hide sensitive data from SDKs (ids, descriptions, traits)", required=False
    )
    use_identity_composite_key_for_hashing = forms.BooleanField(
        label="Split identities by identifier (not by stored id)",
        required=False,
        help_text="Which bucket of a percentage split an identity falls in depends on this.",
    )
    use_identity_overrides_in_local_eval = forms.BooleanField(
        label="Send identity overrides to server-side SDKs evaluating locally", required=False
    )
    banner_text = forms.CharField(label="Banner text", required=False, max_length=255)

    @classmethod
    def initial_of(cls, environment: Environment) -> dict[str, Any]:
        initial = {name: getattr(environment, name) for name in cls.base_fields}
        hide = environment.hide_disabled_flags
        initial["hide_disabled_flags"] = "" if hide is None else ("yes" if hide else "no")
        return initial

    def changes(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data["hide_disabled_flags"] = _HIDE_DISABLED[data["hide_disabled_flags"]]
        return data


class ServerKeyForm(DashboardForm):
    name = forms.CharField(label="Key name", max_length=200)


class DeleteConfirmForm(DashboardForm):
    """Type the name of what is deleted, so that a slip of the mouse deletes nothing."""

    confirm = forms.CharField(label="Type the name to confirm", max_length=2000)

    def __init__(self, *args: Any, expected: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.expected = expected
        self.fields["confirm"].label = f"Type {expected} to confirm"

    def clean_confirm(self) -> str:
        typed: str = self.cleaned_data["confirm"]
        if typed != self.expected:
            raise forms.ValidationError(f"Type {self.expected} exactly.")
        return typed


class OrganisationSettingsForm(DashboardForm):
    name = forms.CharField(label="Name", max_length=2000)
    restrict_project_create_to_admin = forms.BooleanField(
        label="Only administrators create projects", required=False
    )
    feature_analytics = forms.BooleanField(label="Count flag evaluations", required=False)

    @classmethod
    def initial_of(cls, organisation: Any) -> dict[str, Any]:
        return {name: getattr(organisation, name) for name in cls.base_fields}


class MemberRoleForm(DashboardForm):
    role = forms.ChoiceField(label="Role")

    def __init__(self, *args: Any, label: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = OrganisationRole.choices  # type: ignore[attr-defined]
        self.fields["role"].label = label


class MasterKeyForm(DashboardForm):
    name = forms.CharField(label="Master API key name", max_length=200)
    is_admin = forms.BooleanField(label="Administrator key", required=False, initial=True)


class ProjectSettingsForm(DashboardForm):
    """The settings ``project_update`` takes. The first two change what SDKs get; the others
    are kept for Flagsmith's clients, under Flagsmith's names."""

    name = forms.CharField(label="Name", max_length=2000)
    hide_disabled_flags = forms.BooleanField(
        label="Hide disabled flags",
        required=False,
        help_text="SDKs do not receive flags that are off (an environment can say otherwise).",
    )
    enable_realtime_updates = forms.BooleanField(
        label="Real-time updates",
        required=False,
        help_text="The environment document tells SDKs to listen for changes.",
    )
    feature_name_regex = forms.CharField(
        label="Feature name pattern",
        required=False,
        max_length=255,
        help_text="A regular expression, checked when you save.",
    )
    only_allow_lower_case_feature_names = forms.BooleanField(
        label="Only lower-case feature names", required=False
    )
    prevent_flag_defaults = forms.BooleanField(label="Prevent flag defaults", required=False)
    enforce_feature_owners = forms.BooleanField(label="Enforce feature owners", required=False)
    stale_flags_limit_days = forms.IntegerField(
        label="Days before a flag is stale", min_value=0, max_value=2_147_483_647
    )

    @classmethod
    def initial_of(cls, project: Any) -> dict[str, Any]:
        return {name: getattr(project, name) for name in cls.base_fields}
