from __future__ import annotations

from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.organisations.models import Organisation
from vexil.projects.models import Project


@transaction.atomic
def project_create(*, organisation: Organisation, name: str, actor: Actor) -> Project:
    project = Project.objects.create(organisation=organisation, name=name)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        resource_type="project",
        resource_id=project.pk,
        log=f"Project {name!r} created",
        organisation_id=organisation.pk,
        project=project,
        after={"name": name},
    )
    return project
