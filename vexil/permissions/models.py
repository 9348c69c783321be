"""Grants of project and environment permissions, to a user or to a group.

One row per grantee and object, carrying ``admin`` and a list of permission keys: the shape of
Flagsmith's ``user-permissions`` / ``user-group-permissions`` resources. A user's effective
permissions are the union over their own grants and their groups' grants (see selectors).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from vexil.environments.models import Environment
from vexil.organisations.models import UserGroup
from vexil.projects.models import Project


class Grant(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    group = models.ForeignKey(
        UserGroup, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    admin = models.BooleanField(default=False)
    permissions = models.JSONField(default=list, blank=True)

    class Meta:
        abstract = True

    @property
    def grantee_label(self) -> str:
        return f"user {self.user_id}" if self.user_id else f"group {self.group_id}"


def _one_grantee(name: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=(
            models.Q(user__isnull=False, group__isnull=True)
            | models.Q(user__isnull=True, group__isnull=False)
        ),
        name=name,
    )


class ProjectGrant(Grant):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = [
            _one_grantee("project_grant_one_grantee"),
            models.UniqueConstraint(fields=["project", "user"], name="unique_project_user_grant"),
            models.UniqueConstraint(fields=["project", "group"], name="unique_project_group_grant"),
        ]

    def __str__(self) -> str:
        return f"{self.grantee_label} on project {self.project_id}"


class EnvironmentGrant(Grant):
    environment = models.ForeignKey(Environment, on_delete=models.CASCADE, related_name="grants")

    class Meta:
        constraints = [
            _one_grantee("environment_grant_one_grantee"),
            models.UniqueConstraint(
                fields=["environment", "user"], name="unique_environment_user_grant"
            ),
            models.UniqueConstraint(
                fields=["environment", "group"], name="unique_environment_group_grant"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.grantee_label} on environment {self.environment_id}"
