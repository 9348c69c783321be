"""The Identities pages: search, create, delete, typed traits, flags with reasons, overrides."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.dashboard.conftest import PASSWORD
from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature, FeatureState
from vexil.features.services import features_bulk_create, segment_override_create
from vexil.identities.models import Identity, Trait
from vexil.identities.services import identities_bulk_create, trait_create
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.permissions.keys import EnvironmentPermission
from vexil.permissions.services import environment_grant_create
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def _url(project: Project, environment: Environment, rest: str = "") -> str:
    return f"/projects/{project.pk}/environments/{environment.api_key}/identities/{rest}"


def _revision(environment: Environment) -> int:
    environment.refresh_from_db(fields=["revision"])
    return environment.revision


def test_list__search__finds_part_or_exact_identifier(
    admin_client: Client, project: Project, environment: Environment, actor: Actor
) -> None:
    for identifier in ["alice@example.com", "alicia@example.com", "bob@example.com"]:
        Identity.objects.create(environment=environment, identifier=identifier)

    part = admin_client.get(_url(project, environment), {"q": "ali"}).content.decode()
    exact = admin_client.get(_url(project, environment), {"q": '"alice@example.com"'})

    assert "alice@example.com" in part
    assert "alicia@example.com" in part
    assert "bob@example.com" not in part
    assert "alicia@example.com" not in exact.content.decode()
    assert "alice@example.com" in exact.content.decode()


@pytest.mark.parametrize("rows", [10, 100])
def test_list__query_count_does_not_grow_with_rows(
    admin_client: Client, project: Project, environment: Environment, actor: Actor, rows: int
) -> None:
    identities_bulk_create(
        environment=environment, identities={f"user-{n}": {} for n in range(rows)}, actor=actor
    )
    admin_client.get(_url(project, environment))

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project, environment))

    assert response.status_code == 200
    assert len(queries) == 8


def test_create__audited_then_shown(
    admin_client: Client, project: Project, environment: Environment, organisation_admin: User
) -> None:
    response = admin_client.post(_url(project, environment, "new/"), {"identifier": "carol"})

    identity = Identity.objects.get(environment=environment, identifier="carol")
    assert response.status_code == 302
    assert response["Location"] == _url(project, environment, f"{identity.pk}/")
    assert AuditLog.objects.filter(resource_type="identity", author=organisation_admin).exists()


def test_create__duplicate__inline_error_nothing_created(
    admin_client: Client, project: Project, environment: Environment, identity: Identity
) -> None:
    response = admin_client.post(
        _url(project, environment, "new/"), {"identifier": identity.identifier}
    )

    assert response.status_code == 400
    assert "This identity already exists." in response.content.decode()
    assert Identity.objects.filter(environment=environment).count() == 1


def test_detail__flags_with_reasons(
    admin_client: Client,
    project: Project,
    environment: Environment,
    identity: Identity,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    segment_override_create(
        feature=feature, segment=segment, environment=environment, actor=actor, value="green"
    )
    trait_create(identity=identity, trait_key="orders", value=20, actor=actor)

    body = admin_client.get(_url(project, environment, f"{identity.pk}/")).content.decode()

    assert "<code>green</code>" in body
    assert "segment power_users" in body


def test_traits__add_typed_edit_delete__audited(
    admin_client: Client,
    project: Project,
    environment: Environment,
    identity: Identity,
) -> None:
    base = _url(project, environment, f"{identity.pk}/traits/")

    added = admin_client.post(
        base, {"new-trait-key": "age", "new-trait-value": "42", "new-trait-value_type": "integer"}
    )
    trait = Trait.objects.get(identity=identity, trait_key="age")
    edited = admin_client.post(
        f"{base}{trait.pk}/",
        {f"trait-{trait.pk}-value": "1.5", f"trait-{trait.pk}-value_type": "float"},
    )
    trait.refresh_from_db()
    value_after_edit = trait.trait_value
    deleted = admin_client.post(f"{base}{trait.pk}/delete/")

    assert (added.status_code, edited.status_code, deleted.status_code) == (302, 302, 302)
    assert value_after_edit == 1.5
    assert not Trait.objects.filter(identity=identity).exists()
    assert AuditLog.objects.filter(log__startswith="Trait 'age'").count() == 3


def test_traits__bad_integer__inline_error_nothing_saved(
    admin_client: Client, project: Project, environment: Environment, identity: Identity
) -> None:
    response = admin_client.post(
        _url(project, environment, f"{identity.pk}/traits/"),
        {"new-trait-key": "age", "new-trait-value": "old", "new-trait-value_type": "integer"},
    )

    assert response.status_code == 400
    assert "Enter a whole number" in response.content.decode()
    assert not Trait.objects.exists()


def test_override__set_change_remove__bumps_revision_and_audits(
    admin_client: Client,
    project: Project,
    environment: Environment,
    identity: Identity,
    feature: Feature,
    organisation_admin: User,
) -> None:
    url = _url(project, environment, f"{identity.pk}/overrides/")
    form = {
        "override-feature": feature.pk,
        "override-enabled": "on",
        "override-value": "purple",
        "override-value_type": "string",
    }
    before = _revision(environment)

    admin_client.post(url, form)
    state = FeatureState.objects.get(identity=identity)
    page = admin_client.get(_url(project, environment, f"{identity.pk}/")).content.decode()
    admin_client.post(url, {**form, "override-value": "teal"})
    state.refresh_from_db()
    changed_value = state.value
    removed = admin_client.post(f"{url}{state.pk}/remove/")

    assert "identity override" in page
    assert changed_value == "teal"
    assert removed.status_code == 302
    assert not FeatureState.objects.filter(identity=identity).exists()
    assert _revision(environment) >= before + 3
    assert (
        AuditLog.objects.filter(resource_type="feature_state", author=organisation_admin).count()
        == 3
    )


@pytest.fixture
def identity_viewer_client(
    organisation: Organisation, environment: Environment, actor: Actor
) -> Client:
    """A member who may see the environment's identities and change nothing."""
    user = User.objects.create_user(email="reader@example.com", password=PASSWORD)
    organisation_member_add(
        organisation=organisation, user=user, role=OrganisationRole.USER, actor=actor
    )
    environment_grant_create(
        environment=environment,
        user=user,
        permissions=[EnvironmentPermission.VIEW_ENVIRONMENT, EnvironmentPermission.VIEW_IDENTITIES],
        actor=actor,
    )
    client = Client()
    client.force_login(user)
    return client


def test_viewer__sees_flags_without_controls_and_replayed_posts_refused(
    identity_viewer_client: Client,
    project: Project,
    environment: Environment,
    identity: Identity,
    feature: Feature,
) -> None:
    viewer_client = identity_viewer_client
    detail = viewer_client.get(_url(project, environment, f"{identity.pk}/"))

    refused = [
        viewer_client.post(_url(project, environment, "new/"), {"identifier": "x"}),
        viewer_client.post(
            _url(project, environment, f"{identity.pk}/overrides/"),
            {
                "override-feature": feature.pk,
                "override-value": "x",
                "override-value_type": "string",
            },
        ),
        viewer_client.post(
            _url(project, environment, f"{identity.pk}/traits/"),
            {"new-trait-key": "a", "new-trait-value": "b", "new-trait-value_type": "string"},
        ),
        viewer_client.post(_url(project, environment, f"{identity.pk}/delete/")),
    ]

    body = detail.content.decode()
    assert detail.status_code == 200
    assert "checkout_button" in body
    assert "Set override" not in body
    assert "Add trait" not in body
    assert "Delete identity" not in body
    assert [r.status_code for r in refused] == [403, 403, 403, 403]
    assert list(Identity.objects.values_list("identifier", flat=True)) == [identity.identifier]
    assert not Trait.objects.exists()
    assert not FeatureState.objects.filter(identity__isnull=False).exists()


def test_without_view_identities__403(
    viewer_client: Client, project: Project, environment: Environment
) -> None:
    assert viewer_client.get(_url(project, environment)).status_code == 403


def test_other_tenant_identity__404(
    admin_client: Client, project: Project, environment: Environment, other_environment: Environment
) -> None:
    stranger = Identity.objects.create(environment=other_environment, identifier="mallory")

    response = admin_client.get(_url(project, environment, f"{stranger.pk}/"))

    assert response.status_code == 404


def test_delete__confirm_then_gone(
    admin_client: Client, project: Project, environment: Environment, identity: Identity
) -> None:
    confirm = admin_client.get(_url(project, environment, f"{identity.pk}/delete/"))
    deleted = admin_client.post(_url(project, environment, f"{identity.pk}/delete/"))

    assert "Delete identity alice@example.com?" in confirm.content.decode()
    assert deleted.status_code == 302
    assert not Identity.objects.exists()


@pytest.mark.parametrize("features", [10, 100])
def test_detail__query_count_does_not_grow_with_features(
    admin_client: Client,
    project: Project,
    environment: Environment,
    identity: Identity,
    actor: Actor,
    features: int,
) -> None:
    features_bulk_create(
        project=project, specs=[{"name": f"flag_{i:03}"} for i in range(features)], actor=actor
    )
    for key in ("a", "b", "c"):
        trait_create(identity=identity, trait_key=key, value=key, actor=actor)
    admin_client.get(_url(project, environment, f"{identity.pk}/"))

    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(_url(project, environment, f"{identity.pk}/"))

    assert response.status_code == 200
    assert len(queries) == 15
