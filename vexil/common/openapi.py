"""The SDK endpoints in the OpenAPI schema.

The SDK hot path (``/api/v1/flags/``, ``identities/``, ``environment-document/``,
``analytics/flags/``, ``traits/...``) is served by ``vexil.sdk.app`` in front of Django, so
drf-spectacular never sees it. This post-processing hook describes it statically, under its own
tag and with the ``X-Environment-Key`` security scheme. The shapes are Flagsmith's wire shapes
(``shared/docs/flagsmith-protocol.md`` §1); ``tests/api/test_openapi_sdk.py`` checks real answers
of the hot path against them.
"""

from __future__ import annotations

import copy
from typing import Any

TAG = "SDK"
SECURITY_SCHEME = "EnvironmentKey"
_SECURITY: list[dict[str, list[str]]] = [{SECURITY_SCHEME: []}]


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {**schema, "nullable": True}


_FEATURE_VALUE = {
    "oneOf": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}],
    "nullable": True,
    "description": "A string, a 32-bit integer, a boolean or null.",
}
_TRAIT_VALUE = {"oneOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]}

SCHEMAS: dict[str, Any] = {
    "SDKFeature": {
        "type": "object",
        "required": ["id", "name", "type"],
        "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "created_date": {"type": "string", "format": "date-time"},
            "description": _nullable({"type": "string"}),
            "initial_value": _nullable({"type": "string"}),
            "default_enabled": {"type": "boolean"},
            "type": {"type": "string", "enum": ["STANDARD", "MULTIVARIATE"]},
        },
    },
    "SDKFlag": {
        "type": "object",
        "required": ["id", "feature", "feature_state_value", "enabled"],
        "properties": {
            "id": {"type": "integer"},
            "feature": _ref("SDKFeature"),
            "feature_state_value": _FEATURE_VALUE,
            "environment": {"type": "integer"},
            "identity": _nullable({"type": "integer"}),
            "feature_segment": _nullable({"type": "integer"}),
            "enabled": {"type": "boolean"},
        },
    },
    "SDKIdentityFlag": {
        "allOf": [
            _ref("SDKFlag"),
            {
                "type": "object",
                "properties": {
                    "variant": _nullable(
                        {"type": "string", "description": "The multivariate variant chosen."}
                    )
                },
            },
        ]
    },
    "SDKTrait": {
        "type": "object",
        "required": ["trait_key", "trait_value"],
        "properties": {
            "id": _nullable({"type": "integer"}),
            "trait_key": {"type": "string"},
            "trait_value": _TRAIT_VALUE,
            "transient": {"type": "boolean"},
        },
    },
    "SDKIdentity": {
        "type": "object",
        "required": ["identifier", "flags", "traits"],
        "properties": {
            "identifier": {"type": "string"},
            "flags": {"type": "array", "items": _ref("SDKIdentityFlag")},
            "traits": {"type": "array", "items": _ref("SDKTrait")},
        },
    },
    "SDKIdentifyRequest": {
        "type": "object",
        "properties": {
            "identifier": {
                "type": "string",
                "description": "Absent or empty: a transient identity named after its traits.",
            },
            "traits": {
                "type": "array",
                "maxItems": 2000,
                "items": {
                    "type": "object",
                    "required": ["trait_key"],
                    "properties": {
                        "trait_key": {"type": "string"},
                        "trait_value": {**_TRAIT_VALUE, "nullable": True},
                        "transient": {"type": "boolean"},
                    },
                },
            },
            "transient": {"type": "boolean"},
        },
    },
    "SDKEnvironmentDocument": {
        "type": "object",
        "description": "The whole environment for local evaluation (protocol notes §1.9).",
        "required": ["id", "api_key", "name", "project", "feature_states", "identity_overrides"],
        "properties": {
            "id": {"type": "integer"},
            "api_key": {"type": "string"},
            "name": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
            "project": {"type": "object", "additionalProperties": True},
            "feature_states": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": True},
            },
            "identity_overrides": {
                "type": "array",
                "items": {"type": "object", "additionalProperties": True},
            },
        },
        "additionalProperties": True,
    },
    "SDKAnalytics": {
        "type": "object",
        "description": "Evaluations per feature name since the last report.",
        "additionalProperties": {"type": "integer"},
    },
    "SDKLegacyTrait": {
        "type": "object",
        "required": ["identity", "trait_key", "trait_value"],
        "properties": {
            "identity": {
                "type": "object",
                "required": ["identifier"],
                "properties": {"identifier": {"type": "string"}},
            },
            "trait_key": {"type": "string"},
            "trait_value": {**_TRAIT_VALUE, "nullable": True},
        },
    },
    "SDKIncrementRequest": {
        "type": "object",
        "required": ["identifier", "trait_key", "increment_by"],
        "properties": {
            "identifier": {"type": "string"},
            "trait_key": {"type": "string"},
            "increment_by": {"type": "integer"},
        },
    },
    "SDKIncrementResult": {
        "type": "object",
        "required": ["identifier", "trait_key", "trait_value"],
        "properties": {
            "identifier": {"type": "string"},
            "trait_key": {"type": "string"},
            "trait_value": {"type": "integer"},
        },
    },
    "SDKError": {
        "type": "object",
        "required": ["detail", "code"],
        "properties": {
            "detail": {"type": "string"},
            # A string, except where the input itself has a field named ``code`` (two-factor
            # codes): then, as in Flagsmith, that field's messages stand in its place.
            "code": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        },
        "additionalProperties": {
            "description": "400: the fields in error, each with its messages.",
        },
    },
}

_UPDATED_AT = {
    "X-Flagsmith-Document-Updated-At": {
        "description": "When anything affecting evaluation in the environment last changed "
        "(epoch seconds).",
        "schema": {"type": "string"},
    }
}


def _json(schema: dict[str, Any], description: str, headers: Any = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        response["headers"] = headers
    return response


def _error(description: str) -> dict[str, Any]:
    return _json(_ref("SDKError"), description)


_KEY_REFUSED = _error("The key is missing, unknown, expired or revoked (or not a server key).")
_BAD_INPUT = _error("Bad input, in the house error shape with the fields in error.")
_TOO_LARGE = _error("The body is over 1 MiB.")


def _operation(
    operation_id: str,
    summary: str,
    responses: dict[str, Any],
    *,
    parameters: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "operationId": operation_id,
        "summary": summary,
        "tags": [TAG],
        "security": _SECURITY,
        "responses": {**responses, "403": _KEY_REFUSED},
    }
    if parameters:
        operation["parameters"] = parameters
    if body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": body}},
        }
        operation["responses"].setdefault("400", _BAD_INPUT)
        operation["responses"]["413"] = _TOO_LARGE
    return operation


def _query(name: str, description: str, *, required: bool = False) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": required,
        "description": description,
        "schema": {"type": "string"},
    }


_FEATURE_PARAMETER = _query("feature", "A feature name: answer with that one flag (404 if none).")

PATHS: dict[str, Any] = {
    "/api/v1/flags/": {
        "get": _operation(
            "sdk_flags",
            "Every feature's environment default (one flag with ?feature=)",
            {
                "200": _json(
                    {"oneOf": [{"type": "array", "items": _ref("SDKFlag")}, _ref("SDKFlag")]},
                    "The flags (a single flag with ?feature=).",
                    _UPDATED_AT,
                ),
                "404": _error("?feature= names no feature."),
            },
            parameters=[_FEATURE_PARAMETER],
        )
    },
    "/api/v1/identities/": {
        "get": _operation(
            "sdk_identity",
            "An identity's flags with its stored traits (creates the identity)",
            {
                "200": _json(
                    {"oneOf": [_ref("SDKIdentity"), _ref("SDKIdentityFlag")]},
                    "The identity (a single flag with ?feature=).",
                    _UPDATED_AT,
                ),
                "400": _BAD_INPUT,
                "404": _error("?feature= names no feature."),
            },
            parameters=[
                _query("identifier", "The identity's identifier.", required=True),
                _query("transient", "1 or true: evaluate without storing or reading anything."),
                _FEATURE_PARAMETER,
            ],
        ),
        "post": _operation(
            "sdk_identify",
            "Identify and set traits in one call; the identity's flags",
            {"200": _json(_ref("SDKIdentity"), "The identity.", _UPDATED_AT)},
            body=_ref("SDKIdentifyRequest"),
        ),
    },
    "/api/v1/environment-document/": {
        "get": _operation(
            "sdk_environment_document",
            "The environment document for local evaluation (server keys only)",
            {
                "200": _json(
                    _ref("SDKEnvironmentDocument"),
                    "The document.",
                    {
                        **_UPDATED_AT,
                        "ETag": {"schema": {"type": "string"}},
                        "Last-Modified": {"schema": {"type": "string"}},
                    },
                ),
                "304": {"description": "Unchanged since If-None-Match / If-Modified-Since."},
            },
        )
    },
    "/api/v1/analytics/flags/": {
        "post": _operation(
            "sdk_analytics",
            "Report flag evaluation counts (never refused for its content)",
            {"200": {"description": "Recorded (empty body)."}},
            body=_ref("SDKAnalytics"),
        )
    },
    "/api/v1/traits/": {
        "post": _operation(
            "sdk_trait_set",
            "Set one trait of an identity (legacy SDKs)",
            {"200": _json(_ref("SDKLegacyTrait"), "The trait as stored.")},
            body=_ref("SDKLegacyTrait"),
        )
    },
    "/api/v1/traits/bulk/": {
        "put": _operation(
            "sdk_traits_bulk",
            "Set traits of several identities (legacy SDKs)",
            {"200": _json({"type": "array", "items": _ref("SDKLegacyTrait")}, "The traits.")},
            body={"type": "array", "maxItems": 2000, "items": _ref("SDKLegacyTrait")},
        )
    },
    "/api/v1/traits/increment-value/": {
        "post": _operation(
            "sdk_trait_increment",
            "Increment an integer trait (created at 0 first)",
            {"200": _json(_ref("SDKIncrementResult"), "The new value.")},
            body=_ref("SDKIncrementRequest"),
        )
    },
}


def add_sdk_endpoints(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook (``SPECTACULAR_SETTINGS["POSTPROCESSING_HOOKS"]``)."""
    components = result.setdefault("components", {})
    components.setdefault("schemas", {}).update(copy.deepcopy(SCHEMAS))
    components.setdefault("securitySchemes", {})[SECURITY_SCHEME] = {
        "type": "apiKey",
        "in": "header",
        "name": "X-Environment-Key",
        "description": "An environment's client-side key, or a server-side key (ser.…).",
    }
    result.setdefault("paths", {}).update(copy.deepcopy(PATHS))
    tags = [tag for tag in result.get("tags", []) if tag.get("name") != TAG]
    tags.append(
        {
            "name": TAG,
            "description": "The endpoints the Flagsmith SDKs call, wire-compatible with "
            "Flagsmith's (docs/sdk.md). Served outside Django, in front of it.",
        }
    )
    result["tags"] = tags
    return result


# --- Error responses of the management operations ------------------------------------------------

ERROR_SCHEMA = "Error"
_ERRORS: dict[str, str] = {
    "400": "Bad input: the fields in error, each with its messages (or a body that cannot be "
    "parsed, or a NUL character in the URL).",
    "401": "No credentials, or credentials that are invalid, expired or of an unknown scheme.",
    "403": "Authenticated, but not allowed to do this.",
    "404": "Nothing here, or nothing the requester may see.",
    "413": "The request body is too large.",
    "415": "The body was not read: send JSON with Content-Type: application/json.",
    "429": "Too many requests; retry after the Retry-After header's seconds.",
}
_BODY_ERRORS = ("413", "415")
_KEY_PARAMETERS = ("api_key", "environment_api_key")


def add_error_responses(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """drf-spectacular post-processing hook: every management operation documents the errors it
    can answer, in the one error shape (``vexil.common.errors``)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_SCHEMA] = {
        "type": "object",
        "required": ["detail", "code"],
        "properties": {
            "detail": {"type": "string"},
            # A string, except where the input itself has a field named ``code`` (two-factor
            # codes): then, as in Flagsmith, that field's messages stand in its place.
            "code": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
        },
        "additionalProperties": {"description": "400: a field in error, with its messages."},
    }
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            if not isinstance(operation, dict) or TAG in operation.get("tags", []):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") == "path" and parameter["name"] in _KEY_PARAMETERS:
                    # What a client key is; also keeps fixed siblings (environments/permissions/)
                    # from reading as a key.
                    parameter["schema"] = {"type": "string", "pattern": "^[0-9A-Za-z]{22}$"}
            codes = [c for c in _ERRORS if c not in _BODY_ERRORS or "requestBody" in operation]
            responses = operation.setdefault("responses", {})
            for code in codes:
                responses.setdefault(
                    code,
                    {
                        "description": _ERRORS[code],
                        "content": {"application/json": {"schema": _ref(ERROR_SCHEMA)}},
                    },
                )
    return result
