from __future__ import annotations

from django.conf import settings
from django.db import models

from vexil.environments.models import Environment
from vexil.organisations.models import Organisation
from vexil.projects.models import Project


class AuditAction(models.TextChoices):
    CREATE = "CREATE", "Created"
    UPDATE = "UPDATE", "Updated"
    DELETE = "DELETE", "Deleted"


class AuditLog(models.Model):
    """Who changed what, when, with the object's state before and after.

    Rows are written by services in the same transaction as the change; they are never updated.
    The author is a user or, for changes made with an organisation master API key, that key's name.
    """

    created_date = models.DateTimeField(auto_now_add=True, db_index=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.CASCADE, related_name="audit_logs"
    )
    project = models.ForeignKey(
        Project, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_logs"
    )
    environment = models.ForeignKey(
        Environment, null=True, blank=True, on_delete=models.CASCADE, related_name="audit_logs"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    master_api_key_name = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=10, choices=AuditAction.choices)
    resource_type = models.CharField(max_length=50, db_index=True)
    resource_id = models.CharField(max_length=64)
    log = models.TextField()
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ("-created_date", "-id")
        # One per scope of the audit log pages, in their order, so a keyset page reads ~50 rows.
        indexes = [
            models.Index(fields=["organisation", "-created_date"]),
            models.Index(fields=["project", "-created_date"], name="audit_project_created_idx"),
            models.Index(fields=["environment", "-created_date"], name="audit_env_created_idx"),
        ]

    def __str__(self) -> str:
        return self.log

    @property
    def changes(self) -> dict[str, tuple[object, object]]:
        """The fields whose values differ between ``before`` and ``after``."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return {k: (before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)}
