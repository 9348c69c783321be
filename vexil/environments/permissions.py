"""Environment administration: project admins and holders of an admin grant on the environment.

Environment ADMIN is not a permission key (it is the ``admin`` flag of a grant), so it gets its
own selector and permission class here.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from vexil.environments.models import Environment
from vexil.permissions import selectors
from vexil.permissions.drf import principal_of
from vexil.permissions.models import EnvironmentGrant
from vexil.permissions.principals import MasterKeyPrincipal, Principal


def is_environment_admin(principal: Principal, environment: Environment) -> bool:
    if selectors.is_project_admin(principal, environment.project):
        return True
    if isinstance(principal, MasterKeyPrincipal):
        return False
    return EnvironmentGrant.objects.filter(
        Q(user=principal) | Q(group__users=principal), environment=environment, admin=True
    ).exists()


class IsEnvironmentAdmin(BasePermission):
    """The view's ``get_environment()`` must be administered by the requester."""

    def has_permission(self, request: Request, view: Any) -> bool:
        principal = principal_of(request)
        if principal is None:
            return False
        return is_environment_admin(principal, view.get_environment())
