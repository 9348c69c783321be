"""Webhook writes, and the events other services emit.

Emitting is an explicit line in the service that makes the change. The event's body is built
from the state as it is then; the outbox rows are written when the transaction commits (so a
rolled-back change sends nothing), and delivery runs in the background, never in the request.
"""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from vexil.audit.models import AuditLog
from vexil.common import outbound
from vexil.common.mail import public_base_url
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.webhooks import formats, payloads, selectors, signing, tasks, worker
from vexil.webhooks.models import DestinationKind, Webhook, WebhookDelivery, WebhookEventType


class ActorLike(Protocol):
    """What :class:`vexil.audit.services.Actor` offers (imported by shape, to keep audit free)."""

    @property
    def user(self) -> User | None: ...

    @property
    def api_key_name(self) -> str: ...


# --- Webhooks -----------------------------------------------------------------------------------
def webhook_url_validate(url: str) -> str:
    try:
        outbound.check_url(url)
    except outbound.OutboundRefusedError as refusal:
        raise ValidationError({"url": [str(refusal)]}) from None
    return url


def secret_generate() -> str:
    return secrets.token_urlsafe(32)


def webhook_create(
    *,
    organisation: Organisation,
    environment: Environment | None = None,
    url: str,
    secret: str | None = None,
    enabled: bool = True,
    name: str = "",
) -> Webhook:
    """Create a webhook; with no ``secret`` given one is generated (``""`` means unsigned)."""
    return Webhook.objects.create(
        organisation=organisation,
        environment=environment,
        url=webhook_url_validate(url),
        secret=secret_generate() if secret is None else secret,
        enabled=enabled,
        name=name,
    )


def webhook_update(*, webhook: Webhook, **changes: Any) -> Webhook:
    """Change ``url``, ``secret``, ``enabled`` or ``name``; enabling again clears the failures."""
    if "url" in changes:
        webhook_url_validate(changes["url"])
    if changes.get("enabled") and not webhook.enabled:
        changes |= {"consecutive_failures": 0, "disabled_reason": ""}
    for name, value in changes.items():
        setattr(webhook, name, value)
    webhook.save(update_fields=[*changes, "updated_at"])
    return webhook


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


# --- Events -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class FlagChange:
    """A feature state as it was before a change, if any webhook will want to hear of it."""

    environment_id: int
    organisation_id: int
    watched: bool
    previous_state: dict[str, Any] | None
    project_id: int | None = None


def _changed_by(actor: ActorLike) -> str:
    return actor.user.email if actor.user is not None else actor.api_key_name


def _watching(
    *,
    organisation_id: int,
    event_type: str,
    environment_id: int | None = None,
    project_id: int | None = None,
) -> Q:
    """Enabled destinations that hear of ``event_type`` in that environment or project."""
    kinds = [kind for kind, events in formats.EVENTS_OF.items() if event_type in events]
    scope = Q(environment__isnull=True, project__isnull=True)
    if environment_id is not None:
        scope |= Q(environment_id=environment_id)
    if project_id is not None:
        scope |= Q(environment__isnull=True, project_id=project_id)
    return Q(enabled=True, organisation_id=organisation_id, kind__in=kinds) & scope


def flag_change_begin(*, environment: Environment, state: FeatureState | None) -> FlagChange:
    """Call before changing (or creating, ``state=None``) a feature state."""
    organisation_id = environment.project.organisation_id
    watched = Webhook.objects.filter(
        _watching(
            organisation_id=organisation_id,
            event_type=WebhookEventType.FLAG_UPDATED,
            environment_id=environment.pk,
            project_id=environment.project_id,
        )
    ).exists()
    previous = payloads.feature_state_data(state) if watched and state is not None else None
    return FlagChange(environment.pk, organisation_id, watched, previous, environment.project_id)


def feature_default_changes_begin(*, feature: Feature) -> list[FlagChange]:
    """:func:`flag_change_begin` for the feature's environment default in each environment."""
    organisation_id = feature.project.organisation_id
    if not Webhook.objects.filter(enabled=True, organisation_id=organisation_id).exists():
        return []
    states = FeatureState.objects.filter(
        feature=feature, identity__isnull=True, feature_segment__isnull=True
    ).select_related("environment__project", "feature__project")
    return [flag_change_begin(environment=s.environment, state=s) for s in states]


def feature_defaults_created(*, feature: Feature, actor: ActorLike) -> None:
    """``FLAG_UPDATED`` (no previous state) for a new feature's state in each environment."""
    organisation_id = feature.project.organisation_id
    if not Webhook.objects.filter(enabled=True, organisation_id=organisation_id).exists():
        return
    states = FeatureState.objects.filter(
        feature=feature, identity__isnull=True, feature_segment__isnull=True
    ).select_related("environment__project", "feature__project")
    for state in states:
        change = flag_change_begin(environment=state.environment, state=None)
        flag_updated(change=change, state=state, actor=actor)


def flag_updated(
    *, change: FlagChange, state: FeatureState, actor: ActorLike, moment: datetime | None = None
) -> None:
    """Emit ``FLAG_UPDATED`` for ``state`` as it is now, against ``change.previous_state``."""
    if not change.watched:
        return
    data = payloads.flag_event_data(
        new_state=payloads.feature_state_data(state),
        previous_state=change.previous_state,
        changed_by=_changed_by(actor),
        moment=moment or timezone.now(),
    )
    _emit_on_commit(WebhookEventType.FLAG_UPDATED, data, change, actor, moment)


def flag_deleted(*, change: FlagChange, actor: ActorLike, moment: datetime | None = None) -> None:
    """Emit ``FLAG_DELETED`` (``new_state`` null) for the state captured in ``change``."""
    if not change.watched or change.previous_state is None:
        return
    data = payloads.flag_event_data(
        new_state=None,
        previous_state=change.previous_state,
        changed_by=_changed_by(actor),
        moment=moment or timezone.now(),
    )
    _emit_on_commit(WebhookEventType.FLAG_DELETED, data, change, actor, moment)


def _emit_on_commit(
    event_type: str,
    data: dict[str, Any],
    change: FlagChange,
    actor: ActorLike,
    moment: datetime | None,
) -> None:
    event = formats.Event(
        type=event_type, data=data, moment=moment or timezone.now(), actor=_changed_by(actor)
    )
    transaction.on_commit(
        lambda: deliveries_create(
            event=event,
            webhooks=Webhook.objects.filter(
                _watching(
                    organisation_id=change.organisation_id,
                    event_type=event_type,
                    environment_id=change.environment_id,
                    project_id=change.project_id,
                )
            ),
        )
    )


def audit_log_created(*, row: AuditLog) -> None:
    """Emit ``AUDIT_LOG_CREATED`` to the organisation's webhooks (and the project's Datadog and
    Grafana integrations) once ``row`` is committed."""
    transaction.on_commit(lambda: _audit_log_fan_out(row.pk, row.organisation_id, row.project_id))


def _audit_log_fan_out(row_id: int, organisation_id: int, project_id: int | None) -> None:
    hooks = Webhook.objects.filter(
        _watching(
            organisation_id=organisation_id,
            event_type=WebhookEventType.AUDIT_LOG_CREATED,
            project_id=project_id,
        )
    )
    scopes = set(hooks.values_list("kind", "project_id"))
    if not scopes:
        return
    kinds = {kind for kind, _ in scopes}
    if any(kind == DestinationKind.GRAFANA and project for kind, project in scopes):
        # As Flagsmith: the organisation's Grafana hears of projects without their own.
        hooks = hooks.exclude(kind=DestinationKind.GRAFANA, project__isnull=True)
    row = (
        AuditLog.objects.select_related("author", "environment", "project")
        .filter(pk=row_id)
        .first()
    )
    if row is not None:
        tags = selectors.audit_subject_tags(row) if DestinationKind.GRAFANA in kinds else ()
        deliveries_create(event=_audit_event(row, tags=tags), webhooks=hooks)


def _audit_event(row: AuditLog, *, tags: tuple[str, ...] = ()) -> formats.Event:
    author = row.author.email if row.author is not None else row.master_api_key_name or "system"
    labels = {
        "project": row.project.name if row.project is not None else "",
        "environment": row.environment.name if row.environment is not None else "",
    }
    return formats.Event(
        type=WebhookEventType.AUDIT_LOG_CREATED,
        data=payloads.audit_log_data(row),
        moment=row.created_date,
        actor=author,
        labels=labels,
        tags=tags,
    )


def deliveries_create(
    *, event: formats.Event, webhooks: QuerySet[Webhook]
) -> list[WebhookDelivery]:
    """One outbox row per destination for one event (one event id), then wake the deliverer.

    Each row holds the exact body its destination is sent (its kind's format).
    """
    event_id = uuid.uuid4()
    now = timezone.now()
    base = public_base_url()
    rows = WebhookDelivery.objects.bulk_create(
        WebhookDelivery(
            event_id=event_id,
            webhook=webhook,
            event_type=event.type,
            body=formats.body_for(formats.destination_of(webhook, dashboard_base=base), event),
            next_attempt_at=now,
        )
        for webhook in webhooks.select_related("environment")
        if formats.accepts(webhook.kind, event.type)
    )
    if rows:
        deliveries_dispatch(delivery_ids=[row.pk for row in rows])
    return rows


def deliveries_dispatch(*, delivery_ids: Sequence[uuid.UUID]) -> None:
    """Hand due deliveries to Celery (with a broker) or wake this process's deliverer."""
    if settings.CELERY_BROKER_URL:
        for delivery_id in delivery_ids:
            tasks.webhook_delivery_attempt.apply_async(args=[str(delivery_id)])
    elif settings.VEXIL_WEBHOOK_IN_PROCESS_WORKER:
        worker.wake()


# --- Integrations -------------------------------------------------------------------------------
INTEGRATION_SCOPES: dict[str, frozenset[str]] = {
    DestinationKind.DATADOG: frozenset({"project"}),
    # Flagsmith's organisation-level Grafana: for the projects without their own.
    DestinationKind.GRAFANA: frozenset({"project", "organisation"}),
    DestinationKind.SLACK: frozenset({"environment"}),
    DestinationKind.JSON: frozenset({"environment"}),
}


def integration_create(
    *,
    kind: str,
    organisation: Organisation | None = None,
    project: Project | None = None,
    environment: Environment | None = None,
    url: str,
    secret: str = "",
    enabled: bool = True,
    options: dict[str, Any] | None = None,
) -> Webhook:
    """One integration of ``kind`` per organisation (Grafana), project (Datadog, Grafana) or
    environment (Slack, JSON): exactly one of the three is given."""
    scope, organisation_id = _integration_scope(organisation, project, environment)
    if scope not in INTEGRATION_SCOPES.get(kind, frozenset()):
        raise ValidationError(f"A {kind} integration does not belong there.")
    url = webhook_url_validate(url)
    try:
        # The database's unique constraints are the one check, so two concurrent creates
        # cannot both pass it: the loser's IntegrityError becomes the same 400 (savepoint, so
        # an enclosing transaction stays usable).
        with transaction.atomic():
            return Webhook.objects.create(
                kind=kind,
                organisation_id=organisation_id,
                project=project,
                environment=environment,
                url=url,
                secret=secret,
                enabled=enabled,
                options=options or {},
            )
    except IntegrityError:
        label = DestinationKind(kind).label
        raise ValidationError(f"{label} integration for this {scope} already exists.") from None


def _integration_scope(
    organisation: Organisation | None, project: Project | None, environment: Environment | None
) -> tuple[str, int]:
    given = [scope for scope in (organisation, project, environment) if scope is not None]
    if len(given) != 1:
        raise ValidationError("An integration belongs to one organisation, project or environment.")
    if environment is not None:
        return "environment", environment.project.organisation_id
    if project is not None:
        return "project", project.organisation_id
    assert organisation is not None
    return "organisation", organisation.pk


def integration_update(*, integration: Webhook, **changes: Any) -> Webhook:
    """Change ``url``, ``secret``, ``enabled`` or ``options`` (merged into the current ones)."""
    if "options" in changes:
        changes["options"] = {**integration.options, **changes["options"]}
    return webhook_update(webhook=integration, **changes)


def integration_delete(*, integration: Webhook) -> None:
    integration.delete()


# --- Test sends ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class TestSendOutcome:
    """What a test send came to: Flagsmith's ``detail`` and ``code``, and a sentence for people."""

    ok: bool
    detail: str
    code: str
    body: str
    status: int | None = None


def webhook_test_send(*, url: str, secret: str, sample: dict[str, Any]) -> TestSendOutcome:
    """Send ``sample`` (Flagsmith's test event) to ``url`` at once, signed like a delivery."""
    webhook_url_validate(url)
    body = payloads.body_of(sample["event_type"], sample["data"]).encode()
    headers = signing.delivery_headers(
        body,
        secret,
        event_id=str(uuid.uuid4()),
        event_type=sample["event_type"],
        timestamp=int(time.time()),
        attempt=1,
    )
    return _test_post(url, body, headers)


def integration_test_send(*, integration: Webhook) -> TestSendOutcome:
    """Send a sample event, in ``integration``'s own format, to where its deliveries go (with
    the key they use) at once, and say what came back. Nothing is queued or logged: it is the
    integration's ``webhooks/test/``. Flag integrations get Flagsmith's sample flag change, audit
    integrations its sample audit row."""
    destination = formats.destination_of(integration)
    event = _sample_event(integration.kind)
    body = formats.body_for(destination, event).encode()
    headers = formats.request_headers(
        destination,
        body,
        event_id=str(uuid.uuid4()),
        event_type=event.type,
        timestamp=int(time.time()),
        attempt=1,
    )
    return _test_post(formats.request_url(destination), body, headers)


def _sample_event(kind: str) -> formats.Event:
    if formats.accepts(kind, WebhookEventType.FLAG_UPDATED):
        flag = payloads.SAMPLE_ENVIRONMENT_EVENT
        data = flag["data"]
        return formats.Event(
            type=flag["event_type"], data=data, moment=timezone.now(), actor=data["changed_by"]
        )
    audit = payloads.SAMPLE_ORGANISATION_EVENT
    data = audit["data"]
    return formats.Event(
        type=audit["event_type"],
        data=data,
        moment=timezone.now(),
        actor=data["author"]["email"],
        labels={"project": data["project"]["name"], "environment": ""},
        tags=(f"feature:{payloads.SAMPLE_FEATURE_NAME}",),
    )


def _test_post(url: str, body: bytes, headers: dict[str, str]) -> TestSendOutcome:
    try:
        response = outbound.post(url, body, headers=headers)
    except outbound.OutboundRefusedError as refusal:
        return TestSendOutcome(False, "Webhook URL refused", "refused", str(refusal))
    except outbound.OutboundNetworkError:
        return TestSendOutcome(
            False,
            "Could not connect to webhook URL",
            "unreachable",
            "Please check the URL, and ensure it is valid and accessible from the server.",
        )
    if 200 <= response.status < 300:
        return TestSendOutcome(True, "Webhook test successful", "", "", response.status)
    return TestSendOutcome(
        False,
        "Webhook returned error status",
        "error_status",
        f"Webhook returned HTTP {response.status}.",
        response.status,
    )
