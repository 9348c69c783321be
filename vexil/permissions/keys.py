"""Permission keys, as Flagsmith names them (its admin tooling sends these strings)."""

from __future__ import annotations

from django.db import models


class ProjectPermission(models.TextChoices):
    VIEW_PROJECT = "VIEW_PROJECT", "View project"
    CREATE_ENVIRONMENT = "CREATE_ENVIRONMENT", "Create environments"
    CREATE_FEATURE = "CREATE_FEATURE", "Create features"
    DELETE_FEATURE = "DELETE_FEATURE", "Delete features"
    MANAGE_SEGMENTS = "MANAGE_SEGMENTS", "Manage segments"
    VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG", "View audit log"


class EnvironmentPermission(models.TextChoices):
    VIEW_ENVIRONMENT = "VIEW_ENVIRONMENT", "View environment"
    UPDATE_FEATURE_STATE = "UPDATE_FEATURE_STATE", "Update feature states"
    MANAGE_IDENTITIES = "MANAGE_IDENTITIES", "Manage identities"
    VIEW_IDENTITIES = "VIEW_IDENTITIES", "View identities"
    MANAGE_SEGMENT_OVERRIDES = "MANAGE_SEGMENT_OVERRIDES", "Manage segment overrides"


# ``ADMIN`` is not a key of its own: it is the ``admin`` flag of a grant, which implies every key.
ALL_PROJECT_PERMISSIONS = frozenset(ProjectPermission.values)
ALL_ENVIRONMENT_PERMISSIONS = frozenset(EnvironmentPermission.values)


class OrganisationPermission(models.TextChoices):
    """Organisation-level abilities. There are no organisation grants (yet): an ADMIN has all of
    them, a USER has CREATE_PROJECT unless the organisation restricts it to administrators."""

    CREATE_PROJECT = "CREATE_PROJECT", "Create projects in the organisation"
    MANAGE_USERS = "MANAGE_USERS", "Change members' roles and remove members"
    MANAGE_USER_GROUPS = "MANAGE_USER_GROUPS", "Create, change and delete groups"
    MANAGE_API_KEYS = "MANAGE_API_KEYS", "Create and revoke master API keys"
    VIEW_AUDIT_LOG = "VIEW_AUDIT_LOG", "View the organisation's whole audit log"


ALL_ORGANISATION_PERMISSIONS = frozenset(OrganisationPermission.values)
