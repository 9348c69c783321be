"""Flagsmith's feature export / import routes (protocol notes §7): format, strategies, rights."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.features.services import (
    Allocation,
    OptionSpec,
    feature_create,
    feature_state_update,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.models import Identity
from vexil.organisations.models import OrganisationRole
from vexil.organisations.services import organisation_create
from vexil.permissions.models import EnvironmentGrant
from vexil.portability.models import FeatureImport
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.sdk.snapshot import build_snapshot
from vexil.segments.models import Segment
from vexil.tags.services import tag_create
from vexil.users.models import User

pytestmark = pytest.mark.django_db

# Written from the protocol notes (§7): what Flagsmith 2.265's export endpoint produces.
FLAGSMITH_EXPORT = [
    {
        "name": "checkout_limit",
        "default_enabled": False,
        "is_server_key_only": False,
        "initial_value": "200",
        "value": 250,
        "type": "int",
        "enabled": True,
        "multivariate": [],
    },
    {
        "name": "banner_text",
        "default_enabled": True,
        "is_server_key_only": True,
        "initial_value": "hello",
        "value": "welcome back",
        "type": "unicode",
        "enabled": False,
        "multivariate": [],
    },
    {
        "name": "dark_mode",
        "default_enabled": False,
        "is_server_key_only": False,
        "initial_value": None,
        "value": True,
        "type": "bool",
        "enabled": True,
        "multivariate": [],
    },
    {
        "name": "button_colour",
        "default_enabled": True,
        "is_server_key_only": False,
        "initial_value": "blue",
        "value": "blue",
        "type": "unicode",
        "enabled": True,
        "multivariate": [
            {
                "percentage_allocation": 30.0,
                "default_percentage_allocation": 50.0,
                "value": "green",
                "type": "unicode",
            },
            {
                "percentage_allocation": 20.0,
                "default_percentage_allocation": 10.0,
                "value": 7,
                "type": "int",
            },
        ],
    },
]


@pytest.fixture
def admin_client(api_client: APIClient, organisation_admin: User) -> APIClient:
    api_client.force_authenticate(organisation_admin)
    return api_client


def _upload(data: Any, name: str = "feature_export.json") -> SimpleUploadedFile:
    content = data if isinstance(data, bytes) else json.dumps(data).encode()
    return SimpleUploadedFile(name, content, content_type="application/json")


def _import(client: APIClient, environment: Environment, data: Any, strategy: str) -> Any:
    return client.post(
        f"/api/v1/features/feature-import/{environment.pk}",
        {"file": _upload(data), "strategy": strategy},
        format="multipart",
    )


def _export(client: APIClient, environment: Environment, tag_ids: list[int] | None = None) -> Any:
    created = client.post(
        "/api/v1/features/create-feature-export/",
        {"environment_id": environment.pk, "tag_ids": tag_ids or []},
        format="json",
    )
    assert created.status_code == 201, created.json()
    download = client.get(f"/api/v1/features/download-feature-export/{created.json()['id']}/")
    assert download.status_code == 200, download.json()
    return download


def _flags(environment: Environment) -> list[dict[str, Any]]:
    """``/api/v1/flags/`` of the environment (the SDK snapshot's body), without row ids."""
    body = orjson.loads(build_snapshot(environment.pk).flags_body[False])
    for flag in body:
        del flag["id"], flag["environment"], flag["feature"]["id"]
        del flag["feature"]["created_date"]
    return sorted(body, key=lambda flag: flag["feature"]["name"])


def _default(feature: Feature, environment: Environment) -> FeatureState:
    return FeatureState.objects.get(
        feature=feature, environment=environment, identity=None, feature_segment=None
    )


def _by_name(project: Project, name: str) -> Feature:
    return Feature.objects.get(project=project, name=name)


# --- A Flagsmith file imports -------------------------------------------------------------------


def test_feature_import__flagsmith_file__features_states_and_options_created(
    admin_client: APIClient, environment: Environment, project: Project
) -> None:
    # Given another environment, which an import must leave at the features' defaults
    production = environment_create(
        project=project, name="Production", actor=Actor(user=User.objects.get())
    )
    revision = environment.revision

    # When
    response = _import(admin_client, environment, FLAGSMITH_EXPORT, "OVERWRITE_DESTRUCTIVE")

    # Then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["status"] == "SUCCESS"
    assert body["strategy"] == "OVERWRITE_DESTRUCTIVE"
    assert body["environment_id"] == environment.pk
    assert [(r["name"], r["result"]) for r in body["results"]] == [
        ("checkout_limit", "CREATED"),
        ("banner_text", "CREATED"),
        ("dark_mode", "CREATED"),
        ("button_colour", "CREATED"),
    ]
    limit = _by_name(project, "checkout_limit")
    assert (limit.initial_value, limit.default_enabled) == (200, False)
    assert (_default(limit, environment).value, _default(limit, environment).enabled) == (250, True)
    assert (_default(limit, production).value, _default(limit, production).enabled) == (200, False)
    banner = _by_name(project, "banner_text")
    assert banner.is_server_key_only is True
    assert _default(banner, environment).value == "welcome back"
    assert _default(_by_name(project, "dark_mode"), environment).value is True
    colour = _by_name(project, "button_colour")
    options = list(colour.multivariate_options.order_by("id"))
    assert [(o.value, o.default_percentage_allocation) for o in options] == [
        ("green", 50.0),
        (7, 10.0),
    ]
    state = _default(colour, environment)
    allocations = {
        v.multivariate_feature_option.value: v.percentage_allocation
        for v in state.multivariate_feature_state_values.select_related(
            "multivariate_feature_option"
        )
    }
    assert allocations == {"green": 30.0, 7: 20.0}
    production_state = _default(colour, production)
    other = {
        v.percentage_allocation for v in production_state.multivariate_feature_state_values.all()
    }
    assert other == {0.0}
    environment.refresh_from_db()
    assert environment.revision > revision
    assert AuditLog.objects.filter(resource_type="feature_import").count() == 1
    assert AuditLog.objects.filter(resource_type="feature", action="CREATE").count() == 4


def test_feature_import__skip__existing_feature_untouched_new_one_created(
    admin_client: APIClient, environment: Environment, feature: Feature, project: Project
) -> None:
    # Given the file names the existing feature (checkout_button) and a new one
    entries = [
        {"name": "checkout_button", "value": "red", "type": "unicode", "enabled": True},
        {"name": "new_flag", "value": 3, "type": "int", "enabled": True},
    ]

    # When
    response = _import(admin_client, environment, entries, "SKIP")

    # Then
    assert response.status_code == 201
    assert [r["result"] for r in response.json()["results"]] == ["SKIPPED", "CREATED"]
    state = _default(feature, environment)
    assert (state.value, state.enabled) == ("blue", False)
    assert _default(_by_name(project, "new_flag"), environment).value == 3


def test_feature_import__overwrite__overrides_of_target_environment_only_removed(
    admin_client: APIClient,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    identity: Identity,
    actor: Actor,
    project: Project,
) -> None:
    # Given overrides in the target environment and in another one
    production = environment_create(project=project, name="Production", actor=actor)
    for target in (environment, production):
        segment_override_create(
            feature=feature, segment=segment, environment=target, actor=actor, value="seg"
        )
    identity_override_create(
        feature=feature, identity_id=identity.pk, environment=environment, actor=actor, value="me"
    )
    entries = [{"name": "checkout_button", "value": "red", "type": "unicode", "enabled": True}]

    # When
    response = _import(admin_client, environment, entries, "OVERWRITE_DESTRUCTIVE")

    # Then
    assert [r["result"] for r in response.json()["results"]] == ["UPDATED"]
    assert not FeatureSegment.objects.filter(feature=feature, environment=environment).exists()
    assert not FeatureState.objects.filter(feature=feature, identity__isnull=False).exists()
    assert FeatureSegment.objects.filter(feature=feature, environment=production).count() == 1
    assert (_default(feature, environment).value, _default(feature, environment).enabled) == (
        "red",
        True,
    )
    assert _default(feature, production).value == "blue"


def test_feature_import__overwrite__existing_options_matched_and_absent_ones_zeroed(
    admin_client: APIClient, environment: Environment, project: Project, actor: Actor
) -> None:
    # Given a multivariate feature with two options at 40% each
    feature = feature_create(
        project=project,
        name="colour",
        initial_value="blue",
        actor=actor,
        multivariate_options=[OptionSpec("green", 40), OptionSpec("red", 40)],
    )
    entry = {
        "name": "colour",
        "value": "blue",
        "type": "unicode",
        "enabled": True,
        "multivariate": [
            {"percentage_allocation": 90, "value": "red", "type": "unicode"},
        ],
    }

    # When
    response = _import(admin_client, environment, [entry], "OVERWRITE_DESTRUCTIVE")

    # Then no option was added; red has 90%, green (not in the file) 0%
    assert response.json()["status"] == "SUCCESS", response.json()
    assert feature.multivariate_options.count() == 2
    allocations = {
        v.multivariate_feature_option.value: v.percentage_allocation
        for v in _default(feature, environment).multivariate_feature_state_values.select_related(
            "multivariate_feature_option"
        )
    }
    assert allocations == {"green": 0.0, "red": 90.0}


def test_feature_import__one_bad_entry__reported_alone_and_the_rest_imported(
    admin_client: APIClient, environment: Environment, project: Project
) -> None:
    # Given a valid entry, an integer out of range, an upper-case name (the project refuses it)
    entries = [
        {"name": "fine", "value": "x", "type": "unicode", "enabled": True},
        {"name": "too_big", "value": 2**40, "type": "int", "enabled": True},
        {"name": "UPPER", "value": "x", "type": "unicode", "enabled": True},
        "not an object",
    ]

    # When
    response = _import(admin_client, environment, entries, "OVERWRITE_DESTRUCTIVE")

    # Then
    assert response.status_code == 201
    body = response.json()
    assert body["status"] == "FAILED"
    results = body["results"]
    assert [r["result"] for r in results] == ["CREATED", "FAILED", "FAILED", "FAILED"]
    assert "32 bits" in results[1]["detail"]
    assert "lower-case" in results[2]["detail"]
    assert results[3] == {
        "index": 3,
        "name": None,
        "result": "FAILED",
        "detail": "Each entry must be an object.",
    }
    assert list(Feature.objects.filter(project=project).values_list("name", flat=True)) == ["fine"]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "The file is not UTF-8 encoded JSON."),
        (b'{"name": "x"}', "The file must be a JSON array of features (a feature export)."),
        (b"[" + b" " * 1_000_000 + b"]", "File size is too large."),
    ],
)
def test_feature_import__bad_file__400_and_nothing_changed(
    admin_client: APIClient, environment: Environment, content: bytes, message: str
) -> None:
    response = _import(admin_client, environment, content, "SKIP")

    assert response.status_code == 400
    assert response.json()["file"] == [message]
    assert not FeatureImport.objects.exists()


def test_feature_import__bad_strategy__400(
    admin_client: APIClient, environment: Environment
) -> None:
    response = _import(admin_client, environment, [], "MERGE")

    assert response.status_code == 400
    assert "strategy" in response.json()


def test_feature_import__unknown_environment__404(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/features/feature-import/999999",
        {"file": _upload([]), "strategy": "SKIP"},
        format="multipart",
    )

    assert response.status_code == 404


def test_feature_import__other_tenant__404_and_nothing_changed(
    api_client: APIClient, other_admin: User, environment: Environment
) -> None:
    api_client.force_authenticate(other_admin)
    entries = [{"name": "sneaky", "value": "x", "type": "unicode", "enabled": True}]

    response = _import(api_client, environment, entries, "OVERWRITE_DESTRUCTIVE")

    assert response.status_code == 404
    assert not Feature.objects.filter(name="sneaky").exists()


def test_feature_import__environment_admin_not_organisation_admin__403(
    api_client: APIClient, environment: Environment, organisation: Any
) -> None:
    # Given an organisation member who administers the environment, but not the organisation
    member = User.objects.create_user(email="member@example.com", password="correct horse 3")
    organisation.memberships.create(user=member, role=OrganisationRole.USER)
    EnvironmentGrant.objects.create(environment=environment, user=member, admin=True)
    api_client.force_authenticate(member)

    # When an import (destructive) is attempted, while an export is allowed
    response = _import(api_client, environment, [], "SKIP")
    export = api_client.post(
        "/api/v1/features/create-feature-export/",
        {"environment_id": environment.pk, "tag_ids": []},
        format="json",
    )

    # Then
    assert response.status_code == 403
    assert export.status_code == 201


# --- Export -------------------------------------------------------------------------------------


def test_feature_export__download__flagsmith_format_and_attachment(
    admin_client: APIClient, environment: Environment, project: Project, actor: Actor
) -> None:
    # Given a multivariate feature with a changed allocation and value, and an archived one
    feature = feature_create(
        project=project,
        name="colour",
        initial_value="blue",
        default_enabled=True,
        actor=actor,
        multivariate_options=[OptionSpec("green", 50)],
    )
    option = feature.multivariate_options.get()
    feature_state_update(
        feature_state=_default(feature, environment),
        actor=actor,
        value="navy",
        allocations=[Allocation(option=option, percentage_allocation=25)],
    )
    feature_create(project=project, name="old", is_archived=True, actor=actor)

    # When
    download = _export(admin_client, environment)

    # Then
    assert download["Content-Disposition"].startswith("attachment; filename=feature_export.")
    assert download.json() == [
        {
            "name": "colour",
            "default_enabled": True,
            "is_server_key_only": False,
            "initial_value": "blue",
            "value": "navy",
            "type": "unicode",
            "enabled": True,
            "multivariate": [
                {
                    "percentage_allocation": 25.0,
                    "default_percentage_allocation": 50.0,
                    "value": "green",
                    "type": "unicode",
                }
            ],
        }
    ]
    assert AuditLog.objects.filter(resource_type="feature_export").count() == 1


def test_feature_export__tag_ids__only_tagged_features(
    admin_client: APIClient, environment: Environment, project: Project, actor: Actor
) -> None:
    tag = tag_create(project=project, label="web", actor=actor)
    feature_create(project=project, name="tagged", tags=[tag], actor=actor)
    feature_create(project=project, name="untagged", actor=actor)

    download = _export(admin_client, environment, [tag.pk])

    assert [entry["name"] for entry in download.json()] == ["tagged"]


def test_feature_export__unknown_environment__404(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/features/create-feature-export/",
        {"environment_id": 123456, "tag_ids": []},
        format="json",
    )

    assert response.status_code == 404


def test_feature_export__missing_environment_id__400(admin_client: APIClient) -> None:
    response = admin_client.post(
        "/api/v1/features/create-feature-export/", {"tag_ids": []}, format="json"
    )

    assert response.status_code == 400
    assert "environment_id" in response.json()


def test_feature_export__other_tenants_export__404(
    admin_client: APIClient, other_admin: User, other_environment: Environment
) -> None:
    other = APIClient()
    other.force_authenticate(other_admin)
    export_id = other.post(
        "/api/v1/features/create-feature-export/",
        {"environment_id": other_environment.pk, "tag_ids": []},
        format="json",
    ).json()["id"]

    response = admin_client.get(f"/api/v1/features/download-feature-export/{export_id}/")

    assert response.status_code == 404


def test_feature_lists__paginated_newest_first_admin_environments_only(
    admin_client: APIClient,
    environment: Environment,
    project: Project,
    organisation: Any,
    actor: Actor,
) -> None:
    # Given exports and an import in two environments; a member administers only the first
    production = environment_create(project=project, name="Production", actor=actor)
    first = _export(admin_client, environment)
    _export(admin_client, production)
    _import(admin_client, environment, [], "SKIP")
    member = User.objects.create_user(email="member@example.com", password="correct horse 3")
    organisation.memberships.create(user=member, role=OrganisationRole.USER)
    EnvironmentGrant.objects.create(environment=environment, user=member, admin=True)
    member_client = APIClient()
    member_client.force_authenticate(member)

    # When
    exports = member_client.get(f"/api/v1/projects/{project.pk}/feature-exports/").json()
    imports = member_client.get(f"/api/v1/projects/{project.pk}/feature-imports/").json()
    everything = admin_client.get(f"/api/v1/projects/{project.pk}/feature-exports/").json()

    # Then
    assert exports["count"] == 1
    assert exports["results"][0]["environment_id"] == environment.pk
    assert set(exports["results"][0]) == {"id", "name", "environment_id", "status", "created_at"}
    assert first["Content-Disposition"].endswith(f".{exports['results'][0]['id']}.json")
    assert imports["count"] == 1
    assert set(imports["results"][0]) == {
        "id",
        "environment_id",
        "strategy",
        "status",
        "created_at",
    }
    assert everything["count"] == 2
    assert [r["environment_id"] for r in everything["results"]] == [production.pk, environment.pk]


# --- Round trips give the same /api/v1/flags/ ---------------------------------------------------


def _varied_environment(project: Project, environment: Environment, actor: Actor) -> None:
    """Features of every value type, a multivariate one, and states changed from the defaults."""
    feature_create(project=project, name="limit", initial_value=5, actor=actor)
    words = feature_create(
        project=project, name="words", initial_value="hi", default_enabled=True, actor=actor
    )
    feature_create(project=project, name="secret", is_server_key_only=True, actor=actor)
    colour = feature_create(
        project=project,
        name="colour",
        initial_value="blue",
        actor=actor,
        multivariate_options=[OptionSpec("green", 30), OptionSpec(True, 20)],
    )
    feature_state_update(
        feature_state=_default(words, environment), actor=actor, enabled=False, value=False
    )
    feature_state_update(
        feature_state=_default(colour, environment), actor=actor, enabled=True, value="teal"
    )


def test_feature_export_import__between_two_environments__same_flags(
    admin_client: APIClient, environment: Environment, project: Project, actor: Actor
) -> None:
    # Given
    _varied_environment(project, environment, actor)
    production = environment_create(project=project, name="Production", actor=actor)
    assert _flags(production) != _flags(environment)
    exported = _export(admin_client, environment).content

    # When
    response = _import(admin_client, production, exported, "OVERWRITE_DESTRUCTIVE")

    # Then
    assert response.json()["status"] == "SUCCESS"
    assert _flags(production) == _flags(environment)


def test_feature_export_import__into_an_empty_install__same_flags(
    admin_client: APIClient, environment: Environment, project: Project, actor: Actor
) -> None:
    # Given an export, and a newcomer's organisation with an empty project (another install:
    # the file carries names and values only, nothing tied to this install's rows)
    _varied_environment(project, environment, actor)
    exported = _export(admin_client, environment).content
    newcomer = User.objects.create_user(email="new@example.com", password="correct horse 4")
    new_actor = Actor(user=newcomer)
    organisation = organisation_create(name="Elsewhere", creator=newcomer, actor=new_actor)
    new_project = project_create(organisation=organisation, name="Shop", actor=new_actor)
    target = environment_create(project=new_project, name="Live", actor=new_actor)
    client = APIClient()
    client.force_authenticate(newcomer)

    # When
    response = _import(client, target, exported, "SKIP")

    # Then
    assert [r["result"] for r in response.json()["results"]] == ["CREATED"] * 4
    assert _flags(target) == _flags(environment)
