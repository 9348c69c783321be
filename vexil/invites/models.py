"""Invitations to join an organisation: by e-mail (single use) and by shareable link.

Neither stores its secret. The hash a person receives is derived from the row's random ``uuid``
with the server's ``SECRET_KEY`` (an HMAC), so a copy of the database alone cannot join
anything; lookups go by a SHA-256 digest of the hash, and the final comparison is constant-time.
Changing ``SECRET_KEY`` (without keeping the old one in ``SECRET_KEY_FALLBACKS``) therefore
invalidates every outstanding invite.
"""

from __future__ import annotations

import base64
import hashlib
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from vexil.organisations.models import Organisation, OrganisationRole, UserGroup

_SALT = "vexil.invites.hash"


def invite_hash_of(kind: str, row_uuid: uuid.UUID) -> str:
    """The hash in an invite's link: 43 URL-safe characters (256 bits) keyed by SECRET_KEY."""
    digest = salted_hmac(_SALT, f"{kind}:{row_uuid}", algorithm="sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hash_digest_of(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()


class _HashedInvite(models.Model):
    KIND = ""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    hash_digest = models.CharField(max_length=64, unique=True, editable=False)
    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="+")
    role = models.CharField(
        max_length=5, choices=OrganisationRole.choices, default=OrganisationRole.USER
    )
    date_created = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    @property
    def hash(self) -> str:
        return invite_hash_of(self.KIND, self.uuid)

    def set_hash_digest(self) -> None:
        self.hash_digest = hash_digest_of(self.hash)

    def hash_matches(self, value: str) -> bool:
        return constant_time_compare(self.hash, value)

    @property
    def is_expired(self) -> bool:
        return self.expires_at is not None and timezone.now() > self.expires_at


class Invite(_HashedInvite):
    """An e-mail invitation: works once, for the invited address, until ``expires_at``."""

    KIND = "email"

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField(max_length=254)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    permission_groups = models.ManyToManyField(UserGroup, blank=True, related_name="+")

    class Meta:
        ordering = ("-date_created", "-id")
        constraints = [
            models.UniqueConstraint(fields=["organisation", "email"], name="unique_invite_email")
        ]

    def __str__(self) -> str:
        return f"Invite of {self.email} to {self.organisation_id}"


class InviteLink(_HashedInvite):
    """A shareable link: anyone holding it may join, with its role, until ``expires_at``."""

    KIND = "link"

    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="invite_links"
    )

    class Meta:
        ordering = ("-date_created", "-id")

    def __str__(self) -> str:
        return f"Invite link {self.pk} to {self.organisation_id}"
