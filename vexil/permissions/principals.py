"""Who is asking: a signed-in :class:`~vexil.users.models.User` or an organisation master API key.

Authentication classes put one of these on ``request.user``. Master keys act on their own
organisation only; an admin key has an organisation administrator's rights there. A non-admin key
has no grants model yet: it may read its organisation and nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass

from vexil.audit.services import Actor
from vexil.users.models import User


@dataclass(frozen=True)
class MasterKeyPrincipal:
    key_id: str
    """The key's public prefix (``<prefix>.<secret>``), which identifies it."""
    organisation_id: int
    name: str
    is_admin: bool

    is_authenticated = True
    is_active = True
    is_anonymous = False
    is_superuser = False
    is_staff = False
    pk = None
    id = None

    def __str__(self) -> str:
        return f"master API key {self.name!r}"


Principal = User | MasterKeyPrincipal


def actor_of(principal: Principal) -> Actor:
    """The audit author of a change made by this principal."""
    if isinstance(principal, MasterKeyPrincipal):
        return Actor(api_key_name=principal.name)
    return Actor(user=principal)
