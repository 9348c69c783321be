from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Organisation(models.Model):
    """A tenant: it owns projects, members, groups and master API keys."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(max_length=2000)
    created_date = models.DateTimeField(auto_now_add=True)
    persist_trait_data = models.BooleanField(default=True)
    stop_serving_flags = models.BooleanField(default=False)
    restrict_project_create_to_admin = models.BooleanField(default=False)
    force_2fa = models.BooleanField(default=False)
    feature_analytics = models.BooleanField(default=False)
    webhook_notification_email = models.EmailField(blank=True, default="")

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.name


class OrganisationRole(models.TextChoices):
    ADMIN = "ADMIN", "Administrator"
    USER = "USER", "User"


class OrganisationMembership(models.Model):
    """A user's membership of an organisation and their role in it."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(
        max_length=5, choices=OrganisationRole.choices, default=OrganisationRole.USER
    )
    date_joined = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "organisation"], name="unique_membership")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.organisation_id} as {self.role}"

    @property
    def is_admin(self) -> bool:
        return self.role == OrganisationRole.ADMIN


class UserGroup(models.Model):
    """A named set of an organisation's members; permissions can be granted to it."""

    organisation = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="groups")
    name = models.CharField(max_length=200)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="user_groups", blank=True)
    is_default = models.BooleanField(default=False)
    external_id = models.CharField(max_length=255, blank=True, default="")

    class Meta:
        ordering = ("id",)
        constraints = [
            models.UniqueConstraint(fields=["organisation", "name"], name="unique_group_name")
        ]

    def __str__(self) -> str:
        return self.name
