from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vexil.audit.models import AuditAction, AuditLog
from vexil.environments.models import Environment
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.webhooks import services as webhook_services


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in user, or an organisation master API key (by name)."""

    user: User | None = None
    api_key_name: str = ""

    @property
    def label(self) -> str:
        if self.user is not None:
            return self.user.email
        return f"master API key {self.api_key_name!r}" if self.api_key_name else "system"


SYSTEM = Actor()


def audit_record(
    *,
    actor: Actor,
    action: AuditAction,
    resource_type: str,
    resource_id: object,
    log: str,
    organisation_id: int,
    project: Project | None = None,
    environment: Environment | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditLog:
    """Write one audit row; call it inside the service's transaction, after the change.

    On commit, the organisation's webhooks hear of it (``AUDIT_LOG_CREATED``).
    """
    row = AuditLog.objects.create(
        organisation_id=organisation_id,
        project=project or (environment.project if environment else None),
        environment=environment,
        author=actor.user,
        master_api_key_name=actor.api_key_name,
        action=action,
        resource_type=resource_type,
        resource_id=str(resource_id),
        log=log,
        before=before,
        after=after,
    )
    webhook_services.audit_log_created(row=row)
    return row
