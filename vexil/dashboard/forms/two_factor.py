from __future__ import annotations

from django import forms

from vexil.dashboard.forms import DashboardForm


class TwoFactorCodeForm(DashboardForm):
    code = forms.CharField(
        label="Authentication code",
        max_length=32,
        help_text="The 6-digit code from your authenticator app, or one of your backup codes.",
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "text"}),
    )


class TwoFactorAppCodeForm(DashboardForm):
    """A current code from the app (not a backup code): to confirm set-up or new backup codes."""

    code = forms.CharField(
        label="Code from your app",
        max_length=32,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
