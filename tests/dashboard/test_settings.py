"""The environment settings page: client key, server-side keys shown once, the settings that
change evaluation, deletion with confirmation, and what non-administrators get."""

from __future__ import annotations

import pytest
from django.test import Client

from vexil.audit.models import AuditLog
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.projects.models import Project
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _url(project: Project, environment: Environment, rest: str = "") -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/settings/{rest}"


def test_server_key__shown_once_stored_as_digest_then_revoked(
    admin_client: Client, project: Project, environment: Environment, organisation_admin: User
) -> None:
    created = admin_client.post(_url(project, environment, "keys/"), {"name": "backend"})
    key = EnvironmentAPIKey.objects.get(environment=environment)
    plaintext = created.content.decode().split('id="new-server-key" value="')[1].split('"')[0]
    later = admin_client.get(_url(project, environment)).content.decode()
    revoked = admin_client.post(_url(project, environment, f"keys/{key.pk}/revoke/"))

    assert created.status_code == 201
    assert "no-store" in created["Cache-Control"]
    assert plaintext.startswith("ser.")
    assert key.digest == EnvironmentAPIKey.digest_of(plaintext)
    assert plaintext not in later
    assert f"ser.{key.prefix}" in later
    assert revoked.status_code == 302
    assert not EnvironmentAPIKey.objects.exists()
    assert (
        AuditLog.objects.filter(
            resource_type="environment_api_key", author=organisation_admin
        ).count()
        == 2
    )


def test_settings__hide_disabled_flags_saved_audited_revision_moves(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    before = environment.revision

    response = admin_client.post(
        _url(project, environment, "save/"),
        {
            "name": "Development",
            "hide_disabled_flags": "yes",
            "allow_client_traits": "on",
            "use_identity_composite_key_for_hashing": "on",
        },
    )

    environment.refresh_from_db()
    assert response.status_code == 302
    assert environment.hide_disabled_flags is True
    assert environment.use_identity_overrides_in_local_eval is False
    assert environment.revision > before
    assert AuditLog.objects.filter(resource_type="environment", log__contains="updated").exists()


def test_settings__blank_name__inline_error_nothing_saved(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        _url(project, environment, "save/"), {"name": "", "hide_disabled_flags": "yes"}
    )

    environment.refresh_from_db()
    assert response.status_code == 400
    assert "This field is required." in response.content.decode()
    assert environment.hide_disabled_flags is None


def test_delete__wrong_name_refused_right_name_deletes(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    wrong = admin_client.post(_url(project, environment, "delete/"), {"confirm": "development"})
    exists_after_wrong = Environment.objects.filter(pk=environment.pk).exists()
    right = admin_client.post(_url(project, environment, "delete/"), {"confirm": "Development"})

    assert wrong.status_code == 400
    assert "Type Development exactly." in wrong.content.decode()
    assert exists_after_wrong
    assert right.status_code == 302
    assert not Environment.objects.filter(pk=environment.pk).exists()


def test_viewer__client_key_only_and_replayed_posts_refused(
    viewer_client: Client, project: Project, environment: Environment
) -> None:
    page = viewer_client.get(_url(project, environment))
    refused = [
        viewer_client.post(_url(project, environment, "keys/"), {"name": "sneaky"}),
        viewer_client.post(_url(project, environment, "save/"), {"name": "Renamed"}),
        viewer_client.post(_url(project, environment, "delete/"), {"confirm": "Development"}),
    ]

    body = page.content.decode()
    assert page.status_code == 200
    assert environment.api_key in body
    assert "Server-side keys" not in body
    assert "Delete environment" not in body
    assert [r.status_code for r in refused] == [403, 403, 403]
    environment.refresh_from_db()
    assert environment.name == "Development"
    assert not EnvironmentAPIKey.objects.exists()
