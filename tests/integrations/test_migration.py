"""Migration 0003 (one organisation-level Grafana per organisation): a database that already holds
duplicates (made by a race before the constraint) migrates, keeping the oldest of each."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from vexil.organisations.models import Organisation
from vexil.webhooks.models import Webhook

BEFORE = [("webhooks", "0002_integrations")]
AFTER = [("webhooks", "0003_one_grafana_per_organisation")]


@pytest.mark.django_db(transaction=True)
def test_migration__duplicate_organisation_grafana__oldest_kept(
    organisation: Organisation,
) -> None:
    # Given the schema before the constraint, and two organisation-level Grafana rows
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps.get_model("webhooks", "Webhook")
    first = old.objects.create(kind="grafana", organisation_id=organisation.pk, url="https://1")
    old.objects.create(kind="grafana", organisation_id=organisation.pk, url="https://2")

    # When the migration runs
    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)

    # Then the oldest remains
    assert list(Webhook.objects.values_list("pk", "url")) == [(first.pk, "https://1")]
