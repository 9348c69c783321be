from __future__ import annotations

from django.db.models import Q, QuerySet

from vexil.audit.models import AuditLog
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.keys import ProjectPermission
from vexil.permissions.principals import Principal


def audit_logs_visible_to(principal: Principal) -> QuerySet[AuditLog]:
    """Rows the principal may read: all of an organisation they administer (an admin master key
    counts), and the rows of projects where they hold VIEW_AUDIT_LOG (project admins do)."""
    organisation_ids = permission_selectors.admin_organisation_ids(principal)
    project_ids = permission_selectors.project_ids_with_permission(
        principal, ProjectPermission.VIEW_AUDIT_LOG
    )
    if not organisation_ids and not project_ids:
        return AuditLog.objects.none()
    return (
        AuditLog.objects.filter(
            Q(organisation_id__in=organisation_ids) | Q(project_id__in=project_ids)
        )
        .select_related("author")
        .order_by("-created_date", "-id")
    )
