"""The schema documents the errors each management operation can answer, and the API requires
what the schema says is required."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.permission_matrix.conftest import World
from tests.permission_matrix.test_flags_matrix import add_flags_objects
from vexil.features.models import FeatureSegment

ALWAYS = {"400", "401", "403", "404", "429"}


@pytest.fixture
def schema(db: None) -> dict[str, Any]:
    document: dict[str, Any] = Client().get("/api/v1/schema/?format=json").json()
    return document


def test_schema__management_operations__document_their_error_responses(
    schema: dict[str, Any],
) -> None:
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["detail", "code"]
    missing = []
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if "SDK" in operation.get("tags", []):
                continue
            expected = ALWAYS | ({"413", "415"} if "requestBody" in operation else set())
            if not expected <= set(operation["responses"]):
                missing.append(f"{method.upper()} {path}: {expected - set(operation['responses'])}")
    assert missing == []


def test_schema__environment_key_path_parameter__a_client_key(schema: dict[str, Any]) -> None:
    parameters = schema["paths"]["/api/v1/environments/{api_key}/"]["get"]["parameters"]
    key = next(p for p in parameters if p["name"] == "api_key")
    assert key["schema"] == {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}


def test_feature_segment_put__no_body__400_priority_required(world: World) -> None:
    # Given a segment override slot
    add_flags_objects(world)
    slot = FeatureSegment.objects.filter(environment=world.environment).first()
    assert slot is not None
    client = Client(HTTP_AUTHORIZATION=world.credentials["org_admin"])

    # When it is PUT with no body
    response = client.put(
        f"/api/v1/features/feature-segments/{slot.pk}/", b"", content_type="application/json"
    )

    # Then the schema's required field is required
    assert response.status_code == 400
    assert response.json()["priority"] == ["This field is required."]
    assert FeatureSegment.objects.get(pk=slot.pk).priority == slot.priority


def test_feature_segment_patch__priority__changed(world: World) -> None:
    add_flags_objects(world)
    slot = FeatureSegment.objects.filter(environment=world.environment).first()
    assert slot is not None
    client = Client(HTTP_AUTHORIZATION=world.credentials["org_admin"])

    response = client.patch(
        f"/api/v1/features/feature-segments/{slot.pk}/",
        {"priority": 0},
        content_type="application/json",
    )

    assert response.status_code == 200
    assert response.json()["priority"] == 0
