from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from vexil.users.sso import password_login_allowed

# Flagsmith documents djoser's class names for USER_CREATE_PERMISSIONS; Vexil has no djoser.
_ALIASES = {
    "djoser.permissions.CurrentUserOrAdmin": "vexil.users.permissions.IsAdminUser",
    "rest_framework.permissions.IsAdminUser": "vexil.users.permissions.IsAdminUser",
}


class IsAdminUser(BasePermission):
    """A signed-in staff user (a master API key is never one)."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_staff", False))


class PasswordLoginAllowed(BasePermission):
    """``PREVENT_EMAIL_PASSWORD`` (Flagsmith's ``IsPasswordLoginAllowed``): 403 when it is on."""

    message = "Password login is disabled: sign in with single sign-on."

    def has_permission(self, request: Request, view: Any) -> bool:
        return password_login_allowed()


def user_create_permissions() -> list[BasePermission]:
    """The permission classes ``USER_CREATE_PERMISSIONS`` names, instantiated."""
    classes = [import_string(_ALIASES.get(path, path)) for path in settings.USER_CREATE_PERMISSIONS]
    return [permission_class() for permission_class in classes]
