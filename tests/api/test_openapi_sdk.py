"""The OpenAPI schema documents the SDK endpoints as the hot path really answers them.

The SDK endpoints are served outside Django (``vexil.sdk``); ``vexil.common.openapi`` describes
them statically. Real answers of the hot path, for each status it documents, are checked against
that description, so the two cannot drift apart unnoticed.
"""

from __future__ import annotations

from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from rest_framework.test import APIClient

from tests.sdk.conftest import Reply, SDKClient, sdk  # noqa: F401  (the SDK endpoints, in-process)
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create
from vexil.features.models import Feature
from vexil.features.services import OptionSpec, feature_create, segment_override_create
from vexil.segments.models import Segment

SDK_PATHS = {
    "/api/v1/flags/": {"get"},
    "/api/v1/identities/": {"get", "post"},
    "/api/v1/environment-document/": {"get"},
    "/api/v1/analytics/flags/": {"post"},
    "/api/v1/traits/": {"post"},
    "/api/v1/traits/bulk/": {"put"},
    "/api/v1/traits/increment-value/": {"post"},
}


@pytest.fixture
def schema(db: None) -> dict[str, Any]:
    response = APIClient().get("/api/v1/schema/?format=json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def _json_schema(node: Any) -> Any:
    """OpenAPI 3.0's ``nullable`` as JSON Schema's null type."""
    if isinstance(node, list):
        return [_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    converted = {key: _json_schema(value) for key, value in node.items() if key != "nullable"}
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def _pointer(*parts: str) -> str:
    return "#/" + "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


def assert_conforms(schema: dict[str, Any], path: str, method: str, reply: Reply) -> None:
    responses = schema["paths"][path][method]["responses"]
    assert str(reply.status) in responses, f"{method.upper()} {path}: {reply.status} undocumented"
    content = responses[str(reply.status)].get("content")
    if content is None:
        assert reply.body == b""
        return
    root = _json_schema({"components": schema["components"], "paths": schema["paths"]})
    pointer = _pointer(
        "paths", path, method, "responses", str(reply.status), "content", "application/json"
    )
    validator = Draft202012Validator({**root, "$ref": pointer + "/schema"})
    errors = [error.message for error in validator.iter_errors(reply.json())]
    assert errors == [], f"{method.upper()} {path} {reply.status}: {errors}"


def test_schema__sdk_endpoints__documented_under_their_tag_with_key_scheme(
    schema: dict[str, Any],
) -> None:
    validate(schema)
    assert schema["components"]["securitySchemes"]["EnvironmentKey"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Environment-Key",
        "description": "An environment's client-side key, or a server-side key (ser.…).",
    }
    assert "SDK" in {tag["name"] for tag in schema["tags"]}
    for path, methods in SDK_PATHS.items():
        assert set(schema["paths"][path]) == methods, path
        for method in methods:
            operation = schema["paths"][path][method]
            assert operation["tags"] == ["SDK"]
            assert operation["security"] == [{"EnvironmentKey": []}]
            assert "403" in operation["responses"]


def test_schema__sdk_answers__conform(
    schema: dict[str, Any],
    sdk: SDKClient,  # noqa: F811
    environment: Environment,
    feature: Feature,
    segment: Segment,
    actor: Actor,
) -> None:
    # Given a multivariate feature, a segment override and a server key
    feature_create(
        project=environment.project,
        name="variants",
        initial_value=3,
        multivariate_options=[OptionSpec("a", 50)],
        actor=actor,
    )
    segment_override_create(
        feature=feature, segment=segment, environment=environment, actor=actor, enabled=True
    )
    _, server_key = environment_api_key_create(environment=environment, name="s", actor=actor)
    key = environment.api_key
    identify = {"identifier": "bob", "traits": [{"trait_key": "orders", "trait_value": 12}]}
    legacy = {"identity": {"identifier": "bob"}, "trait_key": "plan", "trait_value": "pro"}
    increment = {"identifier": "bob", "trait_key": "logins", "increment_by": 2}
    cases: list[tuple[str, str, dict[str, Any], int]] = [
        ("/api/v1/flags/", "get", {"key": key}, 200),
        ("/api/v1/flags/", "get", {"key": key, "query": "feature=variants"}, 200),
        ("/api/v1/flags/", "get", {"key": key, "query": "feature=nope"}, 404),
        ("/api/v1/flags/", "get", {"key": "unknown-key"}, 403),
        ("/api/v1/identities/", "get", {"key": key, "query": "identifier=bob"}, 200),
        ("/api/v1/identities/", "get", {"key": key, "query": "identifier="}, 400),
        ("/api/v1/identities/", "post", {"key": key, "json": identify}, 200),
        ("/api/v1/identities/", "post", {"key": key, "json": {"traits": [{}]}}, 400),
        ("/api/v1/environment-document/", "get", {"key": server_key}, 200),
        ("/api/v1/environment-document/", "get", {"key": key}, 403),
        ("/api/v1/analytics/flags/", "post", {"key": key, "json": {"variants": 3}}, 200),
        ("/api/v1/traits/", "post", {"key": key, "json": legacy}, 200),
        ("/api/v1/traits/bulk/", "put", {"key": key, "json": [legacy]}, 200),
        ("/api/v1/traits/increment-value/", "post", {"key": key, "json": increment}, 200),
        ("/api/v1/traits/increment-value/", "post", {"key": key, "json": {}}, 400),
    ]
    for path, method, request, status in cases:
        # When the hot path answers
        reply = sdk.request(method.upper(), path, **request)
        # Then the answer is the one documented for its status
        assert reply.status == status, (path, method, request, reply.body)
        assert_conforms(schema, path, method, reply)
