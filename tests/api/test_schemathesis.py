"""Property-based run of the whole management API against its own OpenAPI schema.

Schemathesis loads ``/api/v1/schema/`` from the WSGI application in-process and, for every
operation, generates requests from the schema, sent as Acme's organisation admin on the seeded
two-tenant world of the permission matrix (plus its flags objects). Half of the generated cases use
the seeded objects' ids in the path, so that requests get past the 404 of a random id and reach the
serializers and services. Each request runs in a transaction that is rolled back, so every example
meets the same data and nothing outlives the test.

Checks: no 5xx (``not_a_server_error``), every status code answered is one the schema documents for
that operation (``status_code_conformance``), and a body that conforms to the documented schema
(``response_schema_conformance``). The number of examples is bounded
(``VEXIL_SCHEMATHESIS_EXAMPLES``, default 8 per operation) and the run is derandomised so CI is
reproducible; to search harder locally, raise the number and set ``VEXIL_SCHEMATHESIS_RANDOM=1``.
"""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Err
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.permission_matrix.conftest import World, build_world
from tests.permission_matrix.test_flags_matrix import add_flags_objects
from vexil.audit.models import AuditLog
from vexil.common.openapi import TAG as SDK_TAG
from vexil.environments.models import EnvironmentAPIKey
from vexil.features.models import Feature, FeatureSegment, FeatureState, MultivariateFeatureOption
from vexil.identities.models import Identity, Trait
from vexil.invites.models import Invite, InviteLink
from vexil.permissions.models import EnvironmentGrant, ProjectGrant
from vexil.portability.models import FeatureExport, FeatureImport, FileStatus, ImportStrategy
from vexil.segments.models import Segment
from vexil.tags.models import Tag
from vexil.webhooks.models import AttemptOutcome, Webhook, WebhookAttempt, WebhookDelivery

EXAMPLES = int(os.environ.get("VEXIL_SCHEMATHESIS_EXAMPLES", "8"))
CHECKS = [not_a_server_error, response_schema_conformance, status_code_conformance]


class _RollbackError(Exception):
    pass


@pytest.fixture
def wsgi_app() -> Iterator[Any]:
    """The real WSGI handler, minus the per-request connection recycling.

    Django's test client does the same: closing the connection at the end of a request would end
    the test's transaction.
    """
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _seeded_ids(world: World) -> dict[str, Any]:
    """Path parameter values by the resource segment that precedes them."""
    environment = world.environment
    alice = Identity.objects.get(environment=environment, identifier="alice")
    banner = Feature.objects.get(project=world.project, name="banner")
    return {
        "projects": world.project.pk,
        "organisations": world.organisation.pk,
        "environments": environment.api_key,
        "features": banner.pk,
        "mv-options": MultivariateFeatureOption.objects.filter(feature=banner).first().pk,  # type: ignore[union-attr]
        "segments": Segment.objects.get(project=world.project, name="vip").pk,
        "tags": Tag.objects.get(project=world.project).pk,
        "identities": alice.pk,
        "traits": Trait.objects.filter(identity=alice).first().pk,  # type: ignore[union-attr]
        "identity-featurestates": FeatureState.objects.filter(identity=alice).first().pk,  # type: ignore[union-attr]
        "featurestates": FeatureState.objects.filter(
            feature=banner, environment=environment, identity=None, feature_segment=None
        )
        .get()
        .pk,
        "feature-segments": FeatureSegment.objects.filter(feature=banner).first().pk,  # type: ignore[union-attr]
        "api-keys": EnvironmentAPIKey.objects.filter(environment=environment).first().pk,  # type: ignore[union-attr]
        "groups": world.group.pk,
        "master-api-keys": world.master_key.prefix,
        "users": world.users["member"].pk,
        "audit": AuditLog.objects.order_by("pk").first().pk,  # type: ignore[union-attr]
        "project-user-permissions": ProjectGrant.objects.filter(project=world.project).first().pk,  # type: ignore[union-attr]
        "environment-user-permissions": EnvironmentGrant.objects.filter(environment=environment)
        .first()
        .pk,  # type: ignore[union-attr]
        "invites": Invite.objects.get(organisation=world.organisation).pk,
        "invite-links": InviteLink.objects.get(organisation=world.organisation).pk,
        "join": Invite.objects.get(organisation=world.organisation).hash,
        "link": InviteLink.objects.get(organisation=world.organisation).hash,
    }


def seed_integrations(world: World) -> dict[str, int]:
    """One integration of each kind (the segment before ``{id}`` names the kind's route)."""
    ids: dict[str, int] = {}
    for route, kind, scope in (
        ("datadog", "datadog", {"project": world.project}),
        ("grafana", "grafana", {"project": world.project}),
        ("slack", "slack", {"environment": world.environment}),
        ("json-webhook", "json", {"environment": world.environment}),
    ):
        ids[route] = Webhook.objects.create(
            kind=kind,
            organisation=world.organisation,
            url=f"https://{route}.example.com/",
            secret="k",
            **scope,
        ).pk
    return ids


def _delivered(webhook: Webhook) -> Webhook:
    """``webhook`` with one delivery and its attempt, so its delivery log lists a row."""
    delivery = WebhookDelivery.objects.create(
        event_id=uuid.uuid4(),
        webhook=webhook,
        event_type="FLAG_UPDATED",
        body='{"event_type": "FLAG_UPDATED"}',
        next_attempt_at=timezone.now(),
        attempts=1,
        last_status_code=500,
        last_error="HTTP 500",
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        number=1,
        started_at=timezone.now(),
        status_code=500,
        latency_ms=12,
        outcome=AttemptOutcome.RETRY,
    )
    return webhook


def seed_resources(world: World) -> dict[str, Any]:
    """The objects of the newer operations (webhooks and their delivery logs, group grants,
    feature exports and imports), keyed as ``seeded_path_parameters`` looks them up."""
    organisation, environment = world.organisation, world.environment
    environment_webhook = Webhook.objects.create(
        organisation=organisation, environment=environment, url="https://hooks.example.com/env"
    )
    organisation_webhook = Webhook.objects.create(
        organisation=organisation, url="https://hooks.example.com/org", secret="s"
    )
    export = FeatureExport.objects.create(
        environment=environment, name="export", status=FileStatus.SUCCESS, data=[]
    )
    FeatureImport.objects.create(
        environment=environment,
        strategy=ImportStrategy.SKIP,
        status=FileStatus.SUCCESS,
        data="[]",
        results=[{"name": "banner", "result": "SKIPPED"}],
    )
    organisation_grafana = Webhook.objects.create(
        kind="grafana", organisation=organisation, url="https://grafana.example.com/", secret="k"
    )
    return {
        "organisation-grafana": _delivered(organisation_grafana).pk,
        "environment-webhooks": _delivered(environment_webhook).pk,
        "organisation-webhooks": _delivered(organisation_webhook).pk,
        "project-user-group-permissions": ProjectGrant.objects.create(
            project=world.project, group=world.group, permissions=["VIEW_PROJECT"]
        ).pk,
        "environment-user-group-permissions": EnvironmentGrant.objects.create(
            environment=environment, group=world.group, permissions=["VIEW_ENVIRONMENT"]
        ).pk,
        "download-feature-export": export.pk,
        "feature-import": environment.pk,
    }


def seeded_path_parameters(path: str, ids: dict[str, Any]) -> dict[str, Any]:
    """For ``/api/v1/projects/{project_pk}/features/{id}/``: ``{"project_pk": .., "id": ..}``."""
    segments = path.strip("/").split("/")
    values: dict[str, Any] = {}
    for index, segment in enumerate(segments):
        match = re.fullmatch(r"\{(\w+)\}", segment)
        if not match or index == 0:
            continue
        resource = segments[index - 1]
        if resource == "featurestates" and "identities" in segments:
            resource = "identity-featurestates"
        elif resource in ("user-permissions", "user-group-permissions", "webhooks"):
            resource = f"{segments[2][:-1]}-{resource}"
        elif resource == "grafana" and segments[2] == "organisations":
            resource = "organisation-grafana"
        if resource in ids:
            values[match.group(1)] = ids[resource]
    return values


def _check_operation(operation: Any, ids: dict[str, Any], send: Callable[[Any], None]) -> None:
    seeded = seeded_path_parameters(operation.path, ids)
    strategy = operation.as_strategy()
    if seeded:
        strategy = st.one_of(strategy, operation.as_strategy(path_parameters=seeded))

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=os.environ.get("VEXIL_SCHEMATHESIS_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        send(case)

    run()


def test_management_api__schemathesis__no_server_errors_documented_statuses_and_conformant_bodies(
    db: None, wsgi_app: Any
) -> None:
    # Given the seeded world and the schema the application serves
    world = add_flags_objects(build_world())
    ids = _seeded_ids(world) | seed_integrations(world) | seed_resources(world)
    schema = schemathesis.openapi.from_wsgi("/api/v1/schema/?format=json", wsgi_app)
    headers = {"Authorization": world.credentials["org_admin"]}

    def send(case: Any) -> None:
        cache.clear()  # throttles and lock-outs count per address; every example starts afresh
        try:
            with transaction.atomic():
                case.call_and_validate(headers=headers, checks=CHECKS)
                raise _RollbackError
        except _RollbackError:
            pass

    # When every operation is exercised; Then none answers 5xx or breaks its schema
    failures: list[str] = []
    for result in schema.get_all_operations():
        if isinstance(result, Err):
            failures.append(f"operation not loadable: {result.err()}")
            continue
        operation = result.ok()
        if SDK_TAG in (operation.tags or []):
            continue  # served in front of Django: tests/api/test_openapi_sdk.py checks those
        try:
            _check_operation(operation, ids, send)
        except (Exception, BaseExceptionGroup) as error:  # every operation, then report
            failures.append(f"{operation.method.upper()} {operation.path}: {error}")
    assert failures == [], "\n\n".join(failures)
