"""Each integration's payload, as a local receiver on 127.0.0.1 gets it (docs/integrations.md).

The real Slack, Datadog and Grafana services cannot be reached from here: these tests pin the
formats we send; none was tried against the real service.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.webhooks.conftest import Receiver, Reply, deliver_all
from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import (
    feature_delete,
    feature_state_update,
    feature_update,
    segment_override_create,
)
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.segments.services import segment_update
from vexil.tags.models import Tag
from vexil.tags.services import tag_create
from vexil.webhooks import selectors, services
from vexil.webhooks.models import (
    AttemptOutcome,
    DeliveryStatus,
    DestinationKind,
    Webhook,
    WebhookAttempt,
    WebhookDelivery,
)

pytestmark = pytest.mark.usefixtures("allow_loopback")
Capture = Callable[..., Any]


@pytest.fixture(autouse=True)
def _public_url(settings: Any) -> None:
    settings.PUBLIC_URL = "https://flags.example.com"


def _toggle(state: FeatureState, actor: Actor, capture: Capture, **changes: Any) -> None:
    with capture(execute=True):
        feature_state_update(feature_state=state, actor=actor, **{"enabled": True, **changes})


def _slack(environment: Environment, receiver: Receiver) -> Webhook:
    return services.integration_create(
        kind=DestinationKind.SLACK, environment=environment, url=receiver.url("/services/T/B/x")
    )


def test_toggle__slack__readable_message_with_link(
    environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a Slack integration on the environment
    _slack(environment, receiver)

    # When a feature is switched on with a new value
    _toggle(feature_state, actor, django_capture_on_commit_callbacks, value="green")
    deliver_all()

    # Then Slack gets one incoming-webhook message that says what happened, with the page's link
    [request] = receiver.requests
    assert request.path == "/services/T/B/x"
    assert request.headers["content-type"] == "application/json"
    assert "x-flagsmith-signature" not in request.headers
    message = json.loads(request.body)
    page = (
        f"https://flags.example.com/projects/{environment.project_id}/environments/"
        f"{environment.api_key}/features/{feature_state.feature_id}/"
    )
    assert message == {
        "text": "owner@example.com turned on checkout_button in Development (Web shop)",
        "blocks": [
            {
                "type": "section",
                "text": {
                    "type": "mrkdwn",
                    "text": "*owner@example.com* turned on *checkout_button* in *Development* "
                    "(Web shop)",
                },
            },
            {
                "type": "context",
                "elements": [
                    {
                        "type": "mrkdwn",
                        "text": f"Value: `green` (was `blue`) · <{page}|Open checkout_button "
                        "in Vexil>",
                    }
                ],
            },
        ],
    }


def test_toggle__slack_names_with_markup__escaped(
    environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _slack(environment, receiver)
    _toggle(feature_state, actor, django_capture_on_commit_callbacks, value="<!channel> & co")
    deliver_all()

    context = json.loads(receiver.requests[0].body)["blocks"][1]["elements"][0]["text"]
    assert context.startswith("Value: `&lt;!channel&gt; &amp; co` (was `blue`)")


def test_toggle__json_webhook__flat_summary_signed(
    environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a generic JSON webhook with a secret
    services.integration_create(
        kind=DestinationKind.JSON, environment=environment, url=receiver.url(), secret="k"
    )

    # When a feature is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then it gets a flat summary, signed as webhooks are
    [request] = receiver.requests
    body = json.loads(request.body)
    expected_signature = hmac.new(b"k", request.body, hashlib.sha256).hexdigest()
    assert request.headers["x-flagsmith-signature"] == expected_signature
    assert request.headers["x-vexil-event-type"] == "FLAG_UPDATED"
    assert body["timestamp"]
    del body["timestamp"]
    assert body == {
        "event_type": "FLAG_UPDATED",
        "summary": "owner@example.com turned on checkout_button in Development (Web shop)",
        "changed_by": "owner@example.com",
        "project": {"id": environment.project_id, "name": "Web shop"},
        "environment": {
            "id": environment.pk,
            "name": "Development",
            "api_key": environment.api_key,
        },
        "feature": {"id": feature_state.feature_id, "name": "checkout_button"},
        "segment": None,
        "identity": None,
        "enabled": True,
        "previous_enabled": False,
        "value": "blue",
        "previous_value": "blue",
        "url": f"https://flags.example.com/projects/{environment.project_id}/environments/"
        f"{environment.api_key}/features/{feature_state.feature_id}/",
    }


def test_toggle__datadog__event_with_api_key_header(
    project: Project,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a Datadog integration on the project (its base URL is our receiver)
    services.integration_create(
        kind=DestinationKind.DATADOG,
        project=project,
        url=receiver.url("/"),
        secret="dd-key",
        options={"use_custom_source": True},
    )

    # When a feature is switched on (an audit-log row of the project)
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then Datadog's events endpoint gets Flagsmith's event, the key in Datadog's header
    [request] = receiver.requests
    row = AuditLog.objects.filter(project=project).latest("id")
    assert request.path == "/api/v1/events"
    assert request.headers["dd-api-key"] == "dd-key"
    assert json.loads(request.body) == {
        "text": f"{row.log} by user owner@example.com",
        "title": "Flagsmith Feature Flag Event",
        "tags": ["env:Development"],
        "source_type_name": "flagsmith",
    }


def test_toggle__grafana__annotation_with_bearer_token(
    project: Project,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given a Grafana integration, and a feature with two tags
    for label in ("payments", "checkout"):
        tag = tag_create(project=project, label=label, actor=actor)
        feature_update(
            feature=feature_state.feature, actor=actor, tags=[*_tags(feature_state), tag]
        )
    _grafana(project, receiver)

    # When the feature is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then Grafana gets Flagsmith's annotation, tagged with what changed (Flagsmith's tags)
    [request] = receiver.requests
    row = AuditLog.objects.filter(project=project).latest("id")
    moment = int(row.created_date.timestamp() * 1000)
    assert request.path == "/grafana/api/annotations"
    assert request.headers["authorization"] == "Bearer g"
    assert json.loads(request.body) == {
        "tags": [
            "flagsmith",
            "project:Web shop",
            "environment:Development",
            "by:owner@example.com",
            "feature:checkout_button",
            "flag:enabled",
            "checkout",
            "payments",
        ],
        "text": row.log,
        "time": moment,
        "timeEnd": moment,
    }


def test_grafana__segment_override_created__feature_and_segment_tags(
    project: Project,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _grafana(project, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        segment_override_create(
            feature=feature, segment=segment, environment=environment, actor=actor, enabled=False
        )
    deliver_all()

    # Then each audit row's annotation names the feature and the segment (and the flag's state)
    tags = _annotation_tags(receiver)
    rows = AuditLog.objects.filter(project=project, resource_type__in=_OVERRIDE_ROWS)
    assert {row.resource_type: tags[row.log] for row in rows} == {
        "feature_segment": ["feature:checkout_button", "segment:power_users"],
        "feature_state": ["feature:checkout_button", "flag:disabled", "segment:power_users"],
    }


def test_grafana__feature_deleted_and_segment_renamed__named(
    project: Project,
    feature: Feature,
    segment: Segment,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    _grafana(project, receiver)

    with django_capture_on_commit_callbacks(execute=True):
        feature_delete(feature=feature, actor=actor)
        segment_update(segment=segment, actor=actor, name="big_spenders")
    deliver_all()

    # Then the deleted feature is named from the audit row's "before"; the segment by its name
    tags = _annotation_tags(receiver)
    deleted = AuditLog.objects.get(resource_type="feature", action=AuditAction.DELETE)
    renamed = AuditLog.objects.get(resource_type="segment", action=AuditAction.UPDATE)
    assert tags[deleted.log] == ["feature:checkout_button"]
    assert tags[renamed.log] == ["segment:big_spenders"]


_OVERRIDE_ROWS = ("feature_segment", "feature_state")
_FLAGSMITH_TAGS = 4  # flagsmith, project:, environment:, by:


def _grafana(project: Project, receiver: Receiver) -> Webhook:
    return services.integration_create(
        kind=DestinationKind.GRAFANA, project=project, url=receiver.url("/grafana/"), secret="g"
    )


def _annotation_tags(receiver: Receiver) -> dict[str, list[str]]:
    """Each annotation's text -> its tags after Flagsmith's four fixed ones."""
    bodies = [json.loads(request.body) for request in receiver.requests]
    return {body["text"]: body["tags"][_FLAGSMITH_TAGS:] for body in bodies}


def _tags(state: FeatureState) -> list[Tag]:
    return list(state.feature.tags.all())


def test_toggle__integration_answers_503_then_200__retried_and_logged(
    environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given Slack answers 503 once
    integration = _slack(environment, receiver)
    receiver.replies = [Reply(status=503)]

    # When a feature is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then the message arrives on the second attempt, and both are in the delivery log
    assert len(receiver.requests) == 2
    assert receiver.requests[0].body == receiver.requests[1].body
    delivery = WebhookDelivery.objects.get(webhook=integration)
    assert delivery.status == DeliveryStatus.DELIVERED
    outcomes = list(
        WebhookAttempt.objects.filter(delivery=delivery).values_list("status_code", "outcome")
    )
    assert outcomes == [(503, AttemptOutcome.RETRY), (200, AttemptOutcome.DELIVERED)]


def test_toggle__other_environment_and_project__not_told(
    environment: Environment,
    other_environment: Environment,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given integrations of another tenant's environment and project only
    services.integration_create(
        kind=DestinationKind.SLACK, environment=other_environment, url=receiver.url()
    )
    services.integration_create(
        kind=DestinationKind.DATADOG,
        project=other_environment.project,
        url=receiver.url(),
        secret="x",
    )

    # When a feature of this environment changes
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then nothing is queued or sent
    assert not WebhookDelivery.objects.exists()
    assert receiver.requests == []


def test_toggle__webhook_lists__integrations_not_listed(
    environment: Environment, receiver: Receiver
) -> None:
    _slack(environment, receiver)

    assert list(selectors.environment_webhooks(environment)) == []
    assert list(selectors.organisation_webhooks(environment.project.organisation)) == []


def test_grafana_organisation__project_without_its_own__annotated(
    project: Project,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given only the organisation has a Grafana integration
    services.integration_create(
        kind=DestinationKind.GRAFANA,
        organisation=project.organisation,
        url=receiver.url("/org-grafana"),
        secret="org",
    )

    # When a feature of one of its projects is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then the organisation's Grafana gets the annotation, tagged as a project's would be
    [request] = receiver.requests
    assert request.path == "/org-grafana/api/annotations"
    assert request.headers["authorization"] == "Bearer org"
    assert json.loads(request.body)["tags"][1:] == [
        "project:Web shop",
        "environment:Development",
        "by:owner@example.com",
        "feature:checkout_button",
        "flag:enabled",
    ]


def test_grafana_organisation__project_with_its_own__only_the_projects_told(
    project: Project,
    feature_state: FeatureState,
    actor: Actor,
    receiver: Receiver,
    django_capture_on_commit_callbacks: Capture,
) -> None:
    # Given the organisation and the project each have a Grafana integration
    services.integration_create(
        kind=DestinationKind.GRAFANA,
        organisation=project.organisation,
        url=receiver.url("/org-grafana"),
        secret="org",
    )
    _grafana(project, receiver)

    # When a feature of the project is switched on
    _toggle(feature_state, actor, django_capture_on_commit_callbacks)
    deliver_all()

    # Then only the project's Grafana hears of it (Flagsmith's precedence), nothing is queued else
    assert [request.path for request in receiver.requests] == ["/grafana/api/annotations"]
    assert WebhookDelivery.objects.count() == 1
