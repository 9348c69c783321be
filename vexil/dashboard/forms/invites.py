"""Forms of the invite pages: invite people by e-mail, make an invite link."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import validate_email

from vexil.dashboard.forms import DashboardForm
from vexil.organisations.models import OrganisationRole, UserGroup

MAX_EMAILS = 50


class InviteForm(DashboardForm):
    emails = forms.CharField(
        label="E-mail addresses",
        max_length=MAX_EMAILS * 256,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="One or more, separated by commas, spaces or new lines.",
    )
    role = forms.ChoiceField(
        label="Role", choices=OrganisationRole.choices, initial=OrganisationRole.USER
    )
    groups = forms.ModelMultipleChoiceField(
        label="Groups",
        queryset=UserGroup.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, organisation_id: int, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "invite_%s")  # ids of their own on the settings page
        super().__init__(*args, **kwargs)
        groups = UserGroup.objects.filter(organisation_id=organisation_id).order_by("name")
        self.fields["groups"].queryset = groups  # type: ignore[attr-defined]
        if not groups.exists():
            del self.fields["groups"]

    def clean_emails(self) -> list[str]:
        raw: str = self.cleaned_data["emails"]
        emails = [part for part in raw.replace(",", " ").split() if part]
        if not emails:
            raise forms.ValidationError("Give at least one e-mail address.")
        if len(emails) > MAX_EMAILS:
            raise forms.ValidationError(f"At most {MAX_EMAILS} addresses at a time.")
        for email in emails:
            try:
                validate_email(email)
            except forms.ValidationError:
                raise forms.ValidationError(f"{email[:254]} is not an e-mail address.") from None
        return emails


class InviteLinkForm(DashboardForm):
    role = forms.ChoiceField(
        label="Role of those who join",
        choices=OrganisationRole.choices,
        initial=OrganisationRole.USER,
    )
    expires_in_days = forms.IntegerField(
        label="Expires after (days)",
        min_value=1,
        max_value=365,
        required=False,
        help_text="Leave empty for a link that does not expire.",
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", "invite_link_%s")
        super().__init__(*args, **kwargs)
