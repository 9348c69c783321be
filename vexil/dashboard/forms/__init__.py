"""Forms of the dashboard, one module per area; they read input, the services validate rules."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError


class DashboardForm(forms.Form):
    """Labels without a trailing colon: a field's accessible name is exactly its label."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


def add_service_errors(
    form: forms.Form, error: ValidationError, *, default: str | None = None
) -> None:
    """Show a service's ``ValidationError`` on the form: by field when the form has that field,
    else on ``default`` (or above the form). The user's input stays in the form."""
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            target = name if name in form.fields else default
            for message in errors:
                form.add_error(target, message.messages)
    else:
        form.add_error(default, error.messages)
