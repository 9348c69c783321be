"""System checks for settings that name classes: a typo is reported by every `vexil` command
(and `vexil check`) with the variable's name, not as a 500 on the first request that needs it."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Error, register
from django.utils.module_loading import import_string

# Flagsmith documents djoser's class names for USER_CREATE_PERMISSIONS; vexil.users maps them.
_PERMISSION_ALIASES = frozenset(
    {"djoser.permissions.CurrentUserOrAdmin", "rest_framework.permissions.IsAdminUser"}
)


@register()
def configured_classes_importable(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    named = [("EMAIL_BACKEND", settings.EMAIL_BACKEND)] + [
        ("USER_CREATE_PERMISSIONS", path)
        for path in settings.USER_CREATE_PERMISSIONS
        if path not in _PERMISSION_ALIASES
    ]
    errors = []
    for variable, path in named:
        try:
            import_string(path)
        except ImportError:
            errors.append(
                Error(f"{variable} names {path!r}, which cannot be imported", id="vexil.E001")
            )
    return errors
