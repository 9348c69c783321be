"""One organisation-level Grafana integration per organisation (as Flagsmith), kept by the
database: a second create, sequential or concurrent, is a 400 in the house error shape."""

from __future__ import annotations

import threading
import time

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, connections, transaction
from rest_framework.test import APIClient

from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.users.services import auth_token_issue
from vexil.webhooks import services
from vexil.webhooks.models import DestinationKind, Webhook

GRAFANA = DestinationKind.GRAFANA


def _org_grafana(organisation: Organisation) -> str:
    return f"/api/v1/organisations/{organisation.pk}/integrations/grafana/"


@pytest.mark.django_db
def test_organisation_grafana__second_row_in_database__integrity_error(
    organisation: Organisation,
) -> None:
    # Given an organisation-level Grafana row
    Webhook.objects.create(kind=GRAFANA, organisation=organisation, url="https://g.example.com")

    # When a second is written past the service, then the database refuses it
    with pytest.raises(IntegrityError), transaction.atomic():
        Webhook.objects.create(kind=GRAFANA, organisation=organisation, url="https://h.example.com")
    assert Webhook.objects.filter(kind=GRAFANA).count() == 1


@pytest.mark.django_db
def test_organisation_grafana__project_grafana_too__both_allowed(
    organisation: Organisation, project: Project
) -> None:
    # The constraint counts the organisation's own Grafana only, not its projects'
    services.integration_create(kind=GRAFANA, organisation=organisation, url="https://o.example")
    services.integration_create(kind=GRAFANA, project=project, url="https://p.example")

    assert Webhook.objects.filter(kind=GRAFANA, organisation=organisation).count() == 2


@pytest.mark.django_db
def test_organisation_grafana_create__second__400_house_shape_nothing_added(
    organisation_admin: User, organisation: Organisation
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    body = {"base_url": "https://grafana.example.com", "api_key": "glsa_1"}
    assert client.post(_org_grafana(organisation), body, format="json").status_code == 201

    second = client.post(_org_grafana(organisation), {**body, "api_key": "glsa_2"}, format="json")

    assert second.status_code == 400
    assert second.json() == {
        "detail": "Invalid input.",
        "code": "invalid",
        "non_field_errors": ["Grafana integration for this organisation already exists."],
    }
    assert list(Webhook.objects.values_list("secret", flat=True)) == ["glsa_1"]


def _lock_waiters() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted")
        return int(cursor.fetchone()[0])


@pytest.mark.django_db(transaction=True)
def test_organisation_grafana_create__concurrent__one_row_loser_validation_error(
    organisation: Organisation,
) -> None:
    """Two creates at once: the first holds its uncommitted row while the second tries. With
    only a check-then-insert both would pass; the database lets one through and the other's
    IntegrityError comes back as the service's ValidationError."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers need PostgreSQL (SQLite serialises the whole database)")
    first_inserted, release_first = threading.Event(), threading.Event()
    errors: dict[str, Exception] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                services.integration_create(
                    kind=GRAFANA, organisation=organisation, url="https://one.example", secret="1"
                )
                first_inserted.set()
                release_first.wait(10)
        finally:
            connections.close_all()

    def second() -> None:
        try:
            services.integration_create(
                kind=GRAFANA, organisation=organisation, url="https://two.example", secret="2"
            )
        except Exception as error:  # kept for the assertion below
            errors["second"] = error
        finally:
            connections.close_all()

    # Given the first create has inserted but not committed
    one = threading.Thread(target=first)
    one.start()
    assert first_inserted.wait(10)

    # When the second runs, and waits on the first's row (or slips through, without the fix)
    two = threading.Thread(target=second)
    two.start()
    deadline = time.monotonic() + 10
    while two.is_alive() and _lock_waiters() == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    release_first.set()
    one.join(10)
    two.join(10)

    # Then one row, the first's; the second was refused with the service's error
    assert list(Webhook.objects.values_list("secret", flat=True)) == ["1"]
    refusal = errors.get("second")
    assert isinstance(refusal, ValidationError)
    assert refusal.messages == ["Grafana integration for this organisation already exists."]
