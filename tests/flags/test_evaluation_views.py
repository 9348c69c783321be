"""The management views that show evaluation: they agree with the SDK endpoints' engine."""

from __future__ import annotations

from rest_framework.test import APIClient

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.evaluation.document import build_environment_data
from vexil.features.models import Feature
from vexil.features.services import (
    feature_create,
    identity_override_create,
    segment_override_create,
)
from vexil.identities.models import Identity
from vexil.identities.services import identity_create, trait_create
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.users.models import User


def test_document__admin__same_document_as_sdk_builder(
    api_client: APIClient, organisation_admin: User, environment: Environment, feature: Feature
) -> None:
    api_client.force_authenticate(organisation_admin)
    reply = api_client.get(f"/api/v1/environments/{environment.api_key}/document/")
    assert reply.status_code == 200
    assert reply.json() == build_environment_data(environment.pk).document


def test_all_feature_states__segment_and_identity_overrides__say_which_decided(
    api_client: APIClient,
    organisation_admin: User,
    environment: Environment,
    feature: Feature,
    segment: Segment,
    identity: Identity,
    actor: Actor,
    project: Project,
) -> None:
    # Given: alice has orders=20 (power_users) and her own override of a second feature
    other = feature_create(project=project, name="banner", initial_value="hi", actor=actor)
    segment_override_create(
        feature=feature,
        segment=segment,
        environment=environment,
        actor=actor,
        enabled=True,
        value="red",
    )
    identity_override_create(
        feature=other,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value="just alice",
    )
    trait_create(identity=identity, trait_key="orders", value=20, actor=actor)
    api_client.force_authenticate(organisation_admin)
    # When
    reply = api_client.get(
        f"/api/v1/environments/{environment.api_key}/identities/{identity.pk}/featurestates/all/"
    )
    # Then
    by_name = {state["feature"]["name"]: state for state in reply.json()}
    assert by_name["checkout_button"] == {
        "feature": {"id": feature.pk, "name": "checkout_button", "type": "STANDARD"},
        "enabled": True,
        "feature_state_value": "red",
        "variant": None,
        "overridden_by": "SEGMENT",
        "segment": {"id": segment.pk, "name": "power_users"},
    }
    assert (
        by_name["banner"]["feature_state_value"],
        by_name["banner"]["overridden_by"],
        by_name["banner"]["segment"],
    ) == ("just alice", "IDENTITY", None)


def test_all_feature_states__identity_of_other_environment__404(
    api_client: APIClient,
    organisation_admin: User,
    environment: Environment,
    actor: Actor,
    project: Project,
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)
    stranger = identity_create(environment=production, identifier="zed", actor=actor)
    api_client.force_authenticate(organisation_admin)
    reply = api_client.get(
        f"/api/v1/environments/{environment.api_key}/identities/{stranger.pk}/featurestates/all/"
    )
    assert reply.status_code == 404
