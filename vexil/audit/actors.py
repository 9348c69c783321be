"""Who is making an API request, as the audit trail names it."""

from __future__ import annotations

from rest_framework.request import Request

from vexil.audit.services import SYSTEM, Actor
from vexil.permissions.principals import MasterKeyPrincipal
from vexil.users.models import User


def actor_of(request: Request) -> Actor:
    user = request.user
    if isinstance(user, MasterKeyPrincipal):
        return Actor(api_key_name=user.name)
    if isinstance(user, User):
        return Actor(user=user)
    return SYSTEM
