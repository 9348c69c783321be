from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.password_validation import validate_password

from vexil.users.selectors import setup_token_is_valid


class InitialiseForm(forms.Form):
    """The first-run form: the first superuser and the site's name and domain."""

    setup_token = forms.CharField(
        help_text="Printed by vexil serve (make run) when it starts on a new install."
    )
    # Flagsmith's field name; Vexil signs people in by e-mail address, so it is only a name.
    username = forms.CharField(
        label="Your name", max_length=150, required=False, help_text="Optional."
    )
    email = forms.EmailField(label="E-mail address", help_text="You sign in with this address.")
    password = forms.CharField(widget=forms.PasswordInput)
    site_name = forms.CharField(
        max_length=50, initial="Vexil", help_text="Shown in the e-mails Vexil sends."
    )
    site_domain = forms.CharField(
        max_length=100,
        initial="localhost:8000",
        help_text="The host name (and port) people use to reach this server, for links in "
        "e-mails, e.g. flags.example.com.",
    )

    def clean_setup_token(self) -> str:
        token: str = self.cleaned_data["setup_token"].strip()
        if not setup_token_is_valid(token):
            raise forms.ValidationError("This setup token is not valid or has expired.")
        return token

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("password"):
            try:
                validate_password(cleaned["password"])
            except forms.ValidationError as error:
                self.add_error("password", error)
        return cleaned
