from __future__ import annotations

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from drf_spectacular.generators import SchemaGenerator
from openapi_spec_validator import validate

TENANCY_PATHS = [
    "/api/v1/auth/login/",
    "/api/v1/auth/logout/",
    "/api/v1/auth/users/",
    "/api/v1/auth/users/me/",
    "/api/v1/auth/users/set_password/",
    "/api/v1/organisations/",
    "/api/v1/organisations/{id}/",
    "/api/v1/organisations/{id}/my-permissions/",
    "/api/v1/organisations/{id}/remove-users/",
    "/api/v1/organisations/permissions/",
    "/api/v1/organisations/{organisation_pk}/users/",
    "/api/v1/organisations/{organisation_pk}/users/{user_id}/update-role/",
    "/api/v1/organisations/{organisation_pk}/groups/",
    "/api/v1/organisations/{organisation_pk}/groups/{id}/",
    "/api/v1/organisations/{organisation_pk}/groups/{id}/add-users/",
    "/api/v1/organisations/{organisation_pk}/groups/{id}/remove-users/",
    "/api/v1/organisations/{organisation_pk}/groups/my-groups/",
    "/api/v1/organisations/{organisation_pk}/master-api-keys/",
    "/api/v1/organisations/{organisation_pk}/master-api-keys/{prefix}/",
    "/api/v1/organisations/{organisation_pk}/audit/",
    "/api/v1/projects/",
    "/api/v1/projects/{id}/",
    "/api/v1/projects/{id}/my-permissions/",
    "/api/v1/projects/permissions/",
    "/api/v1/projects/{project_pk}/user-permissions/",
    "/api/v1/projects/{project_pk}/user-permissions/{id}/",
    "/api/v1/projects/{project_pk}/user-group-permissions/",
    "/api/v1/projects/{project_pk}/user-group-permissions/{id}/",
    "/api/v1/projects/{project_pk}/audit/",
    "/api/v1/environments/{environment_api_key}/user-permissions/",
    "/api/v1/environments/{environment_api_key}/user-permissions/{id}/",
    "/api/v1/environments/{environment_api_key}/user-group-permissions/",
    "/api/v1/environments/{environment_api_key}/user-group-permissions/{id}/",
    "/api/v1/environments/{environment_api_key}/my-permissions/",
    "/api/v1/environments/permissions/",
    "/api/v1/audit/",
    "/api/v1/audit/{id}/",
]


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def test_schema__generated__valid_openapi(schema: dict) -> None:
    validate(schema)


@pytest.mark.parametrize("path", TENANCY_PATHS)
def test_schema__tenancy_endpoint__present(schema: dict, path: str) -> None:
    assert path in schema["paths"]


def test_schema__both_schemes__declared(schema: dict) -> None:
    assert set(schema["components"]["securitySchemes"]) >= {"tokenAuth", "masterApiKey"}


def test_schema__grant_input__user_is_integer_and_output_an_object(schema: dict) -> None:
    components = schema["components"]["schemas"]
    assert components["ProjectUserGrantInputRequest"]["properties"]["user"]["type"] == "integer"
    assert components["ProjectUserGrant"]["properties"]["user"] == {
        "allOf": [{"$ref": "#/components/schemas/UserSummary"}],
        "readOnly": True,
    }


def test_schema__spectacular_command__no_warnings(tmp_path) -> None:
    try:
        call_command(
            "spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "s.yaml")
        )
    except CommandError as error:  # pragma: no cover - the message lists the warnings
        pytest.fail(str(error))


def test_schema__update_priorities__list_in_list_out(schema: dict) -> None:
    operation = schema["paths"]["/api/v1/features/feature-segments/update-priorities/"]["post"]
    body = operation["requestBody"]["content"]["application/json"]["schema"]
    response = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert body["type"] == "array"
    assert response["type"] == "array"


def test_schema__member_last_login__nullable(schema: dict) -> None:
    assert schema["components"]["schemas"]["Member"]["properties"]["last_login"]["nullable"]
