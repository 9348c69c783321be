"""``/api/v1/flags/`` and ``/api/v1/environment-document/`` (protocol notes §1.5, §1.9)."""

from __future__ import annotations

from email.utils import format_datetime

import pytest

from tests.sdk.conftest import SDKClient
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_update, environment_update
from vexil.features.models import Feature, FeatureState
from vexil.features.services import feature_create, feature_state_update
from vexil.organisations.models import Organisation
from vexil.projects.models import Project

FLAGS = "/api/v1/flags/"
DOCUMENT = "/api/v1/environment-document/"


def test_flags__no_key__403(sdk: SDKClient) -> None:
    reply = sdk.get(FLAGS)
    assert reply.status == 403
    assert reply.json()["detail"] == "Invalid or missing Environment key"


def test_flags__unknown_key__403_capital_k(sdk: SDKClient, environment: Environment) -> None:
    reply = sdk.get(FLAGS, key="not-a-key")
    assert reply.status == 403
    assert reply.json()["detail"] == "Invalid or missing Environment Key"


def test_flags__client_key__environment_defaults(
    sdk: SDKClient, environment: Environment, feature: Feature, feature_state: FeatureState
) -> None:
    # When
    reply = sdk.get(FLAGS, key=environment.api_key)
    # Then
    assert reply.status == 200
    assert reply.json() == [
        {
            "id": feature_state.pk,
            "feature": {
                "id": feature.pk,
                "name": "checkout_button",
                "created_date": feature.created_date.isoformat(),
                "description": None,
                "initial_value": "blue",
                "default_enabled": False,
                "type": "STANDARD",
            },
            "feature_state_value": "blue",
            "environment": environment.pk,
            "identity": None,
            "feature_segment": None,
            "enabled": False,
        }
    ]
    environment.refresh_from_db()
    assert reply.headers["x-flagsmith-document-updated-at"] == repr(
        environment.updated_at.timestamp()
    )


def test_flags__path_without_slash__served(sdk: SDKClient, environment: Environment) -> None:
    assert sdk.get("/api/v1/flags", key=environment.api_key).status == 200


def test_flags__feature_query__single_object_or_404(
    sdk: SDKClient, environment: Environment, feature: Feature
) -> None:
    found = sdk.get(FLAGS, key=environment.api_key, query="feature=checkout_button")
    assert found.status == 200
    assert found.json()["feature"]["name"] == "checkout_button"
    missing = sdk.get(FLAGS, key=environment.api_key, query="feature=nope")
    assert (missing.status, missing.json()["detail"]) == (404, "Given feature not found")


def test_flags__server_key_only_feature__hidden_from_client_keys(
    sdk: SDKClient, project: Project, environment: Environment, server_key: str, actor: Actor
) -> None:
    feature_create(project=project, name="secret", is_server_key_only=True, actor=actor)
    client_names = [f["feature"]["name"] for f in sdk.get(FLAGS, key=environment.api_key).json()]
    server_names = [f["feature"]["name"] for f in sdk.get(FLAGS, key=server_key).json()]
    assert client_names == []
    assert server_names == ["secret"]


def test_flags__hide_disabled_flags__disabled_omitted(
    sdk: SDKClient, project: Project, environment: Environment, actor: Actor
) -> None:
    feature_create(project=project, name="on", default_enabled=True, actor=actor)
    feature_create(project=project, name="off", default_enabled=False, actor=actor)
    environment_update(environment=environment, actor=actor, hide_disabled_flags=True)
    names = [f["feature"]["name"] for f in sdk.get(FLAGS, key=environment.api_key).json()]
    assert names == ["on"]


def test_flags__hide_sensitive_data__fields_nulled(
    sdk: SDKClient, environment: Environment, feature: Feature, actor: Actor
) -> None:
    environment_update(environment=environment, actor=actor, hide_sensitive_data=True)
    [flag] = sdk.get(FLAGS, key=environment.api_key).json()
    assert flag == {
        "id": None,
        "feature": {
            "id": feature.pk,
            "name": "checkout_button",
            "created_date": None,
            "description": None,
            "initial_value": None,
            "default_enabled": None,
            "type": "STANDARD",
        },
        "feature_state_value": "blue",
        "environment": None,
        "identity": None,
        "feature_segment": None,
        "enabled": False,
    }


def test_flags__change_committed__visible_on_next_request(
    sdk: SDKClient, environment: Environment, feature_state: FeatureState, actor: Actor
) -> None:
    # Given
    assert sdk.get(FLAGS, key=environment.api_key).json()[0]["enabled"] is False
    # When
    feature_state_update(feature_state=feature_state, actor=actor, enabled=True, value="red")
    # Then
    [flag] = sdk.get(FLAGS, key=environment.api_key).json()
    assert (flag["enabled"], flag["feature_state_value"]) == (True, "red")


def test_flags__organisation_stopped_serving__403(
    sdk: SDKClient, environment: Environment, organisation: Organisation
) -> None:
    Organisation.objects.filter(pk=organisation.pk).update(stop_serving_flags=True)
    reply = sdk.get(FLAGS, key=environment.api_key)
    assert reply.json()["detail"] == "Organisation is disabled from serving flags."


def test_flags__inactive_server_key__403(
    sdk: SDKClient, environment: Environment, server_key: str, actor: Actor
) -> None:
    from vexil.environments.models import EnvironmentAPIKey

    key = EnvironmentAPIKey.objects.get()
    environment_api_key_update(key=key, actor=actor, active=False)
    assert sdk.get(FLAGS, key=server_key).status == 403


def test_flags__cors_preflight__allows_sdk_headers(sdk: SDKClient) -> None:
    reply = sdk.request(
        "OPTIONS",
        FLAGS,
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "GET"},
    )
    assert reply.status == 200
    assert reply.headers["access-control-allow-origin"] == "*"
    assert "x-environment-key" in reply.headers["access-control-allow-headers"]
    assert "flagsmith-sdk-user-agent" in reply.headers["access-control-allow-headers"]


def test_document__client_key__403(sdk: SDKClient, environment: Environment) -> None:
    assert sdk.get(DOCUMENT, key=environment.api_key).status == 403


def test_document__server_key__every_field_and_no_null_lists(
    sdk: SDKClient, environment: Environment, feature: Feature, server_key: str
) -> None:
    # When
    reply = sdk.get(DOCUMENT, key=server_key)
    # Then
    document = reply.json()
    assert reply.status == 200
    assert set(document) == {
        "id",
        "api_key",
        "name",
        "allow_client_traits",
        "updated_at",
        "hide_sensitive_data",
        "hide_disabled_flags",
        "use_identity_composite_key_for_hashing",
        "use_identity_overrides_in_local_eval",
        "project",
        "feature_states",
        "identity_overrides",
    }
    assert document["api_key"] == environment.api_key
    assert document["updated_at"].endswith("+00:00")
    assert document["project"]["segments"] == []
    assert document["identity_overrides"] == []
    [state] = document["feature_states"]
    assert state["feature"] == {"id": feature.pk, "name": "checkout_button", "type": "STANDARD"}
    assert state["multivariate_feature_state_values"] == []
    assert isinstance(state["django_id"], int)


def test_document__if_modified_since_current__304(
    sdk: SDKClient, environment: Environment, server_key: str
) -> None:
    environment.refresh_from_db()
    since = format_datetime(environment.updated_at, usegmt=True)
    reply = sdk.get(DOCUMENT, key=server_key, headers={"If-Modified-Since": since})
    assert (reply.status, reply.body) == (304, b"")


def test_document__etag__304_then_200_after_change(
    sdk: SDKClient,
    environment: Environment,
    server_key: str,
    feature_state: FeatureState,
    actor: Actor,
) -> None:
    etag = sdk.get(DOCUMENT, key=server_key).headers["etag"]
    assert sdk.get(DOCUMENT, key=server_key, headers={"If-None-Match": etag}).status == 304
    feature_state_update(feature_state=feature_state, actor=actor, enabled=True)
    assert sdk.get(DOCUMENT, key=server_key, headers={"If-None-Match": etag}).status == 200


@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_flags__wrong_method__405(sdk: SDKClient, environment: Environment, method: str) -> None:
    reply = sdk.request(method, FLAGS, key=environment.api_key)
    assert reply.status == 405


def test_document__organisation_renamed__next_document_carries_it(
    sdk: SDKClient,
    environment: Environment,
    server_key: str,
    organisation: Organisation,
    actor: Actor,
) -> None:
    from vexil.organisations.services import organisation_update

    assert sdk.get(DOCUMENT, key=server_key).json()["project"]["organisation"]["name"] == "Acme"
    organisation_update(organisation=organisation, actor=actor, name="Acme Ltd")
    assert sdk.get(DOCUMENT, key=server_key).json()["project"]["organisation"]["name"] == "Acme Ltd"
