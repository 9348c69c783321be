from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vexil.audit.models import AuditLog
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.webhooks.models import DestinationKind, Webhook, WebhookDelivery


def environment_webhooks(environment: Environment) -> QuerySet[Webhook]:
    return Webhook.objects.filter(environment=environment, kind=DestinationKind.WEBHOOK).order_by(
        "id"
    )


def organisation_webhooks(organisation: Organisation) -> QuerySet[Webhook]:
    return Webhook.objects.filter(
        organisation=organisation,
        environment__isnull=True,
        project__isnull=True,
        kind=DestinationKind.WEBHOOK,
    ).order_by("id")


def deliveries_of(webhook: Webhook) -> QuerySet[WebhookDelivery]:
    """The delivery log of a webhook, newest first, attempts included."""
    return (
        WebhookDelivery.objects.filter(webhook=webhook)
        .prefetch_related("attempt_log")
        .order_by("-created_at", "-pk")
    )


def integrations_of(
    *,
    kind: str,
    organisation: Organisation | None = None,
    project: Project | None = None,
    environment: Environment | None = None,
) -> QuerySet[Webhook]:
    """The integration of ``kind`` of an organisation (its own, not its projects'), a project or
    an environment (zero or one row); none when no scope is given."""
    if organisation is None and project is None and environment is None:
        return Webhook.objects.none()
    rows = Webhook.objects.filter(kind=kind, project=project, environment=environment)
    if organisation is not None:
        rows = rows.filter(organisation=organisation)
    return rows.order_by("id")


def integrations_of_environment(environment: Environment) -> QuerySet[Webhook]:
    return Webhook.objects.filter(environment=environment).exclude(kind=DestinationKind.WEBHOOK)


def integrations_of_project(project: Project) -> QuerySet[Webhook]:
    return Webhook.objects.filter(project=project, environment__isnull=True)


def integrations_of_organisation(organisation: Organisation) -> QuerySet[Webhook]:
    """The organisation's own integrations (its Grafana), not its projects' or environments'."""
    return (
        Webhook.objects.filter(
            organisation=organisation, project__isnull=True, environment__isnull=True
        )
        .exclude(kind=DestinationKind.WEBHOOK)
        .order_by("id")
    )


# --- What an audit row is about, as tags (Grafana annotations) ---------------------------------
def audit_subject_tags(row: AuditLog) -> tuple[str, ...]:
    """The tags Flagsmith puts on a Grafana annotation for what ``row`` changed:
    ``feature:<name>`` and the feature's tag labels (with ``flag:enabled|disabled`` for a feature
    state, ``segment:<name>`` for an override), or ``segment:<name>``. A deleted feature is named
    from the row's ``before``; another object deleted since, or another kind, has none."""
    if not row.resource_id.isdigit():
        return ()  # a bulk row ("3..9") names no one object
    pk = int(row.resource_id)
    if row.resource_type == "feature":
        return _feature_tags(pk, row.before)
    if row.resource_type == "feature_state":
        return _state_tags(pk, row.after or row.before or {})
    if row.resource_type == "feature_segment":
        return _override_tags(pk)
    if row.resource_type == "segment":
        segment = Segment.objects.filter(pk=pk).first()
        return (f"segment:{segment.name}",) if segment is not None else ()
    return ()


def _feature_tags(pk: int, before: dict[str, Any] | None) -> tuple[str, ...]:
    feature = Feature.objects.filter(pk=pk).first()
    if feature is None:
        name = (before or {}).get("name")
        return (f"feature:{name}",) if name else ()
    return (f"feature:{feature.name}", *_labels(feature))


def _state_tags(pk: int, snapshot: dict[str, Any]) -> tuple[str, ...]:
    state = (
        FeatureState.objects.select_related("feature", "feature_segment__segment")
        .filter(pk=pk)
        .first()
    )
    if state is None:
        return ()
    enabled = snapshot.get("enabled", state.enabled)
    segment = state.feature_segment.segment if state.feature_segment is not None else None
    return (
        f"feature:{state.feature.name}",
        f"flag:{'enabled' if enabled else 'disabled'}",
        *([f"segment:{segment.name}"] if segment is not None else []),
        *_labels(state.feature),
    )


def _override_tags(pk: int) -> tuple[str, ...]:
    override = FeatureSegment.objects.select_related("feature", "segment").filter(pk=pk).first()
    if override is None:
        return ()
    feature = override.feature
    return (f"feature:{feature.name}", f"segment:{override.segment.name}", *_labels(feature))


def _labels(feature: Feature) -> list[str]:
    return list(feature.tags.order_by("label").values_list("label", flat=True))
