"""The Django admin: every domain model is there, and a change saved in it has the effects of the
same change made over the API (service validation, audit row by the admin user, environment
revision moved, SDKs serving it) or the model is read-only there."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.db import models
from django.test import Client, RequestFactory

from tests.sdk.conftest import SDKClient, sdk  # noqa: F401  (the SDK endpoints, in-process)
from vexil.api_keys.models import MasterAPIKey
from vexil.api_keys.services import master_api_key_create
from vexil.audit.models import AuditAction, AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment, EnvironmentAPIKey
from vexil.features.models import Feature, FeatureState
from vexil.identities.models import Identity, Trait
from vexil.organisations.models import Organisation
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.users.models import User

DOMAIN_MODELS: list[type[models.Model]] = [
    Organisation,
    Project,
    Environment,
    Feature,
    FeatureState,
    Segment,
    Identity,
    Trait,
    EnvironmentAPIKey,
    MasterAPIKey,
    AuditLog,
]
READ_ONLY_MODELS: list[type[models.Model]] = [Trait, EnvironmentAPIKey, MasterAPIKey, AuditLog]


@pytest.fixture
def admin_client(superuser: User) -> Client:
    client = Client()
    client.force_login(superuser)
    return client


def _url(obj: models.Model, view: str = "change") -> str:
    meta = obj._meta
    return f"/admin/{meta.app_label}/{meta.model_name}/{obj.pk}/{view}/"


def _change_form_data(superuser: User, obj: models.Model, **updates: Any) -> dict[str, Any]:
    """What a browser posts back from the change page, with ``updates`` typed in."""
    request = RequestFactory().get("/")
    request.user = superuser
    model_admin = admin.site._registry[type(obj)]
    form = model_admin.get_form(request, obj, change=True)(instance=obj)
    data: dict[str, Any] = {}
    for name in form.fields:
        value = updates.get(name, form[name].value())
        if value is True:
            data[name] = "on"
        elif value not in (False, None):
            data[name] = value
    return data


def _flag(flags: list[dict[str, Any]], feature: Feature) -> dict[str, Any]:
    return next(f for f in flags if f["feature"]["id"] == feature.pk)


def test_admin__domain_models__registered_and_pages_render(
    admin_client: Client, environment: Environment, feature: Feature, identity: Identity
) -> None:
    for model in DOMAIN_MODELS:
        assert admin.site.is_registered(model), model
        meta = model._meta
        listing = admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/")
        assert listing.status_code == 200, model
        obj = model._default_manager.first()
        if obj is not None:
            assert admin_client.get(_url(obj)).status_code == 200, model


def test_admin__feature_state_changed__served_by_flags_with_audit_and_revision(
    sdk: SDKClient,  # noqa: F811
    admin_client: Client,
    superuser: User,
    environment: Environment,
    feature: Feature,
    feature_state: FeatureState,
) -> None:
    # Given the SDK serves the default
    flags = sdk.get("/api/v1/flags/", key=environment.api_key).json()
    assert _flag(flags, feature)["feature_state_value"] == "blue"
    revision = environment.revision

    # When an operator switches it on with another value in the admin
    data = _change_form_data(superuser, feature_state, enabled=True, feature_state_value='"red"')
    response = admin_client.post(_url(feature_state), data)

    # Then the SDK serves it, the revision moved, and the audit row names the operator
    assert response.status_code == 302, response.content.decode()[:2000]
    flags = sdk.get("/api/v1/flags/", key=environment.api_key).json()
    assert _flag(flags, feature)["enabled"] is True
    assert _flag(flags, feature)["feature_state_value"] == "red"
    environment.refresh_from_db()
    assert environment.revision > revision
    row = AuditLog.objects.latest("id")
    assert (row.author, row.action, row.resource_type) == (
        superuser,
        AuditAction.UPDATE,
        "feature_state",
    )


def test_admin__organisation_stops_serving_flags__sdk_refused(
    sdk: SDKClient,  # noqa: F811
    admin_client: Client,
    superuser: User,
    organisation: Organisation,
    environment: Environment,
    feature: Feature,
) -> None:
    assert sdk.get("/api/v1/flags/", key=environment.api_key).status == 200

    data = _change_form_data(superuser, organisation, stop_serving_flags=True)
    response = admin_client.post(_url(organisation), data)

    assert response.status_code == 302
    organisation.refresh_from_db()
    assert organisation.stop_serving_flags is True
    assert sdk.get("/api/v1/flags/", key=environment.api_key).status != 200
    row = AuditLog.objects.latest("id")
    assert row.author == superuser
    assert row.after["stop_serving_flags"] is True  # type: ignore[index]


@pytest.mark.parametrize("value", ['{"theme": "dark"}', "1.5", "[1]", "4294967296"])
def test_admin__feature_state_value_not_storable__form_error_nothing_changed(
    admin_client: Client, superuser: User, feature_state: FeatureState, value: str
) -> None:
    audit_rows = AuditLog.objects.count()

    response = admin_client.post(
        _url(feature_state), _change_form_data(superuser, feature_state, feature_state_value=value)
    )

    assert response.status_code == 200
    assert "errorlist" in response.content.decode()
    feature_state.refresh_from_db()
    assert feature_state.value == "blue"
    assert AuditLog.objects.count() == audit_rows


def test_admin__project_invalid_regex__form_error_nothing_changed(
    admin_client: Client, superuser: User, project: Project
) -> None:
    response = admin_client.post(
        _url(project), _change_form_data(superuser, project, feature_name_regex="([")
    )

    assert response.status_code == 200
    assert "Not a valid regular expression" in response.content.decode()
    project.refresh_from_db()
    assert project.feature_name_regex == ""


def test_admin__feature_created__states_in_every_environment_and_audit(
    admin_client: Client, superuser: User, project: Project, environment: Environment
) -> None:
    response = admin_client.post(
        "/admin/features/feature/add/",
        {"project": project.pk, "name": "new_banner", "initial_value": '"hi"', "description": ""},
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    feature = Feature.objects.get(name="new_banner")
    state = FeatureState.objects.get(feature=feature, environment=environment)
    assert state.value == "hi"
    row = AuditLog.objects.latest("id")
    assert (row.author, row.action, row.resource_type) == (superuser, AuditAction.CREATE, "feature")


def test_admin__feature_deleted__through_service_with_audit(
    admin_client: Client, superuser: User, feature: Feature, environment: Environment
) -> None:
    revision = environment.revision

    response = admin_client.post(_url(feature, "delete"), {"post": "yes"})

    assert response.status_code == 302
    assert not Feature.objects.filter(pk=feature.pk).exists()
    environment.refresh_from_db()
    assert environment.revision > revision
    row = AuditLog.objects.latest("id")
    assert (row.author, row.action) == (superuser, AuditAction.DELETE)


def test_admin__read_only_models__no_add_change_or_delete(
    admin_client: Client, organisation: Organisation, actor: Actor, environment: Environment
) -> None:
    master_api_key_create(organisation=organisation, name="ci", actor=actor)
    for model in READ_ONLY_MODELS:
        meta = model._meta
        assert (
            admin_client.get(f"/admin/{meta.app_label}/{meta.model_name}/add/").status_code == 403
        )
        obj = model._default_manager.first()
        if obj is None:
            continue
        before = {f.name: getattr(obj, f.attname) for f in meta.fields}
        assert admin_client.post(_url(obj), {}).status_code == 403
        assert admin_client.post(_url(obj, "delete"), {"post": "yes"}).status_code == 403
        obj.refresh_from_db()
        assert {f.name: getattr(obj, f.attname) for f in meta.fields} == before


def test_admin__api_key_pages__no_secret_shown(
    admin_client: Client, organisation: Organisation, actor: Actor
) -> None:
    key, plaintext = master_api_key_create(organisation=organisation, name="ci", actor=actor)

    page = admin_client.get(_url(key)).content.decode()

    assert plaintext not in page
    assert key.hashed_key not in page
