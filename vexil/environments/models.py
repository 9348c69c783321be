from __future__ import annotations

import hashlib
import hmac
import uuid

import shortuuid
from django.db import models
from django.utils import timezone

from vexil.projects.models import Project

SERVER_KEY_PREFIX = "ser."


def generate_client_key() -> str:
    """22 URL-safe characters, as Flagsmith's client-side environment keys."""
    return shortuuid.uuid()


class Environment(models.Model):
    """A stage of a project (Development, Production...), with its own flag states.

    ``revision`` and ``updated_at`` advance, in the same transaction, with every change that can
    alter an evaluation (feature states, overrides, segments, environment settings): the SDK API's
    caches, ``Last-Modified`` and ``X-Flagsmith-Document-Updated-At`` are derived from them.
    """

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="environments")
    name = models.CharField(max_length=2000)
    description = models.TextField(blank=True, default="")
    api_key = models.CharField(max_length=100, unique=True, default=generate_client_key)
    created_date = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(default=timezone.now)
    revision = models.PositiveBigIntegerField(default=1)
    allow_client_traits = models.BooleanField(default=True)
    hide_disabled_flags = models.BooleanField(null=True, blank=True, default=None)
    hide_sensitive_data = models.BooleanField(default=False)
    use_identity_composite_key_for_hashing = models.BooleanField(default=True)
    use_identity_overrides_in_local_eval = models.BooleanField(default=True)
    banner_text = models.CharField(max_length=255, blank=True, default="")
    banner_colour = models.CharField(max_length=7, blank=True, default="")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class EnvironmentAPIKey(models.Model):
    """A server-side environment key (``ser.<prefix><secret>``), stored as a digest.

    The plaintext is shown once, at creation. ``prefix`` (the first characters after ``ser.``)
    is indexed, so resolving a key on the SDK hot path is one indexed lookup plus a digest compare.
    """

    PREFIX_LENGTH = 8

    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200)
    prefix = models.CharField(max_length=PREFIX_LENGTH, unique=True)
    digest = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return f"{self.name} ({SERVER_KEY_PREFIX}{self.prefix}…)"

    @staticmethod
    def generate_plaintext() -> str:
        return SERVER_KEY_PREFIX + shortuuid.ShortUUID().random(length=40)

    @classmethod
    def prefix_of(cls, plaintext: str) -> str:
        return plaintext[len(SERVER_KEY_PREFIX) : len(SERVER_KEY_PREFIX) + cls.PREFIX_LENGTH]

    @staticmethod
    def digest_of(plaintext: str) -> str:
        return hashlib.sha256(plaintext.encode()).hexdigest()

    def matches(self, plaintext: str) -> bool:
        return hmac.compare_digest(self.digest, self.digest_of(plaintext))
