"""Response bodies of a Flagsmith 2.x admin API, written from the protocol notes (§1.9, §4) for
the shapes where Flagsmith differs from Vexil: ``initial_value`` as text, plain (unpaginated)
lists, traits as typed columns without ``trait_value``, nulls where Vexil has empty strings, and
ids that Flagsmith hashes on which no Vexil id will ever equal.

``ROUTES`` maps a request path (with its query) to the body a Flagsmith server answers.
"""

from __future__ import annotations

from typing import Any

CLIENT_KEY = "K6xVbZ7nYq3bQeW3sA8u2d"
ENV = f"environments/{CLIENT_KEY}"
TOKEN = "flagsmith-user-token"


def _page(results: list[Any]) -> dict[str, Any]:
    return {"count": len(results), "next": None, "previous": None, "results": results}


def _option(option_id: int, value: str, allocation: float, key: str | None) -> dict[str, Any]:
    return {
        "id": option_id,
        "uuid": f"5a8e4d2c-0000-4000-8000-{option_id:012d}",
        "type": "unicode",
        "integer_value": None,
        "string_value": value,
        "boolean_value": None,
        "default_percentage_allocation": allocation,
        "key": key,
    }


def _feature(feature_id: int, name: str, initial: str | None, **more: Any) -> dict[str, Any]:
    return {
        "id": feature_id,
        "uuid": f"7e1f0a9b-0000-4000-8000-{feature_id:012d}",
        "name": name,
        "type": "STANDARD",
        "default_enabled": False,
        "initial_value": initial,
        "description": None,
        "tags": [],
        "is_archived": False,
        "is_server_key_only": False,
        "owners": [],
        "group_owners": [],
        "multivariate_options": [],
        "project": 11,
        "created_date": "2026-07-01T09:00:00.000000Z",
        "num_segment_overrides": 0,
        "num_identity_overrides": None,
        **more,
    }


def _trait(trait_id: int, key: str, value_type: str, **value: Any) -> dict[str, Any]:
    columns = {"string_value": None, "integer_value": None, "float_value": None}
    return {
        "id": trait_id,
        "trait_key": key,
        "value_type": value_type,
        **columns,
        "boolean_value": None,
        **value,
        "created_date": "2026-07-01T09:00:00.000000Z",
    }


def _state(django_id: int, feature_id: int, name: str, value: Any, **more: Any) -> dict[str, Any]:
    return {
        "django_id": django_id,
        "featurestate_uuid": f"c1d2e3f4-1111-4222-8333-{django_id:012d}",
        "feature": {"id": feature_id, "name": name, "type": more.pop("type", "STANDARD")},
        "enabled": more.pop("enabled", True),
        "feature_state_value": value,
        "feature_segment": more.pop("feature_segment", None),
        "multivariate_feature_state_values": more.pop("mv", []),
    }


def _mv(value_id: int, option_id: int, value: str, weight: float, key: str | None) -> Any:
    return {
        "id": value_id,
        "mv_fs_value_uuid": f"0a6c7e0e-2f7b-4f7e-9b1e-{value_id:012d}",
        "percentage_allocation": weight,
        "multivariate_feature_option": {"id": option_id, "value": value, "key": key},
    }


SPLIT = {"operator": "PERCENTAGE_SPLIT", "property": None, "value": "50", "description": None}
POWER_RULES = [
    {
        "id": 201,
        "type": "ALL",
        "conditions": [],
        "rules": [
            {
                "id": 202,
                "type": "ANY",
                "rules": [],
                "conditions": [
                    {"operator": "GREATER_THAN_INCLUSIVE", "property": "orders", "value": "10"},
                    {"operator": "EQUAL", "property": "plan", "value": "premium"},
                ],
            },
            {
                "id": 203,
                "type": "NONE",
                "rules": [],
                "conditions": [{"operator": "EQUAL", "property": "banned", "value": "true"}],
            },
        ],
    }
]

DOCUMENT: dict[str, Any] = {
    "id": 21,
    "api_key": CLIENT_KEY,
    "name": "Production",
    "allow_client_traits": True,
    "updated_at": "2026-08-01T10:00:00.123456+00:00",
    "hide_sensitive_data": False,
    "hide_disabled_flags": None,
    "use_identity_composite_key_for_hashing": False,
    "use_identity_overrides_in_local_eval": False,
    "project": {
        "id": 11,
        "name": "Web",
        "organisation": {
            "id": 7,
            "name": "Acme",
            "feature_analytics": False,
            "stop_serving_flags": False,
            "persist_trait_data": True,
        },
        "hide_disabled_flags": False,
        "enable_realtime_updates": False,
        "server_key_only_feature_ids": [],
        "segments": [
            {
                "id": 101,
                "name": "half",
                "rules": [
                    {
                        "type": "ALL",
                        "rules": [],
                        "conditions": [
                            {"operator": "PERCENTAGE_SPLIT", "property_": None, "value": "50"}
                        ],
                    }
                ],
                "feature_states": [
                    _state(903, 43, "banner_text", "half", feature_segment={"priority": 1})
                ],
            },
            {
                "id": 102,
                "name": "power_users",
                "rules": [
                    {
                        "type": "ALL",
                        "conditions": [],
                        "rules": [
                            {
                                "type": "ANY",
                                "rules": [],
                                "conditions": [
                                    {
                                        "operator": "GREATER_THAN_INCLUSIVE",
                                        "property_": "orders",
                                        "value": "10",
                                    },
                                    {"operator": "EQUAL", "property_": "plan", "value": "premium"},
                                ],
                            },
                            {
                                "type": "NONE",
                                "rules": [],
                                "conditions": [
                                    {"operator": "EQUAL", "property_": "banned", "value": "true"}
                                ],
                            },
                        ],
                    }
                ],
                "feature_states": [
                    _state(901, 43, "banner_text", "Welcome back!", feature_segment={"priority": 0})
                ],
            },
        ],
    },
    "feature_states": [
        _state(
            502,
            41,
            "checkout_button",
            "blue",
            type="MULTIVARIATE",
            mv=[_mv(7001, 61, "green", 30.0, "green_button"), _mv(7002, 62, "red", 30.0, None)],
        ),
        _state(503, 42, "max_items", 25, enabled=False),
        _state(501, 43, "banner_text", "Hello"),
    ],
    "identity_overrides": [],
}

ROUTES: dict[str, Any] = {
    "organisations/": _page(
        [
            {
                "id": 7,
                "uuid": "9b0c9d8e-0000-4000-8000-000000000007",
                "name": "Acme",
                "created_date": "2026-01-01T00:00:00Z",
                "webhook_notification_email": "ops@example.com",
                "num_seats": 1,
                "subscription": {"plan": "free"},
                "role": "ADMIN",
                "persist_trait_data": True,
                "block_access_to_admin": False,
                "restrict_project_create_to_admin": True,
                "force_2fa": False,
            }
        ]
    ),
    # Flagsmith's project list is a plain list, not a page
    "projects/?organisation=7": [
        {
            "id": 11,
            "uuid": "3c2b1a00-0000-4000-8000-000000000011",
            "name": "Web",
            "organisation": 7,
            "hide_disabled_flags": False,
            "enable_dynamo_db": False,
            "migration_status": "NOT_MIGRATED",
            "use_edge_identities": False,
            "prevent_flag_defaults": True,
            "enable_realtime_updates": False,
            "only_allow_lower_case_feature_names": True,
            "feature_name_regex": "^[a-z_]+$",
            "show_edge_identity_overrides_for_feature": False,
            "stale_flags_limit_days": 45,
            "edge_v2_migration_status": "NOT_STARTED",
            "minimum_change_request_approvals": None,
        }
    ],
    "environments/?project=11": [
        {
            "id": 21,
            "uuid": "1d0e0f00-0000-4000-8000-000000000021",
            "name": "Production",
            "api_key": CLIENT_KEY,
            "description": None,
            "project": 11,
            "minimum_change_request_approvals": None,
            "allow_client_traits": True,
            "banner_text": None,
            "banner_colour": None,
            "hide_disabled_flags": None,
            "use_identity_composite_key_for_hashing": False,
            "use_identity_overrides_in_local_eval": False,
            "hide_sensitive_data": False,
            "use_mv_v2_evaluation": False,
            "use_v2_feature_versioning": False,
        }
    ],
    "projects/11/tags/": _page(
        [
            {
                "id": 31,
                "uuid": "2a000000-0000-4000-8000-000000000031",
                "label": "checkout",
                "color": "#3d4db6",
                "description": None,
                "project": 11,
                "is_permanent": False,
                "is_system_tag": False,
                "type": "NONE",
            }
        ]
    ),
    "projects/11/features/": _page(
        [
            _feature(
                41,
                "checkout_button",
                "blue",
                type="MULTIVARIATE",
                default_enabled=True,
                tags=[31],
                owners=[{"id": 1, "email": "OWNER@example.com", "first_name": "", "last_name": ""}],
                multivariate_options=[
                    _option(61, "green", 30.0, "green_button"),
                    _option(62, "red", 30.0, None),
                ],
            ),
            _feature(42, "max_items", "25"),
            _feature(43, "banner_text", "Hello", default_enabled=True, description="Top banner"),
        ]
    ),
    "projects/11/segments/": _page(
        [
            {
                "id": 101,
                "uuid": "4b000000-0000-4000-8000-000000000101",
                "name": "half",
                "description": None,
                "project": 11,
                "feature": None,
                "rules": [{"id": 200, "type": "ALL", "rules": [], "conditions": [SPLIT]}],
            },
            {
                "id": 102,
                "uuid": "4b000000-0000-4000-8000-000000000102",
                "name": "power_users",
                "description": "Ten orders or premium, never banned",
                "project": 11,
                "feature": None,
                "rules": POWER_RULES,
            },
        ]
    ),
    f"{ENV}/document/": DOCUMENT,
    f"{ENV}/identities/": _page(
        [
            {"id": 4242, "identifier": "alice@example.com", "environment": 21},
            {"id": 4243, "identifier": "bob", "environment": 21},
        ]
    ),
    f"{ENV}/identities/4242/traits/": [
        _trait(1, "orders", "int", integer_value=12),
        _trait(2, "score", "float", float_value=1.5),
        _trait(3, "plan", "unicode", string_value="free"),
        _trait(4, "beta", "bool", boolean_value=True),
    ],
    f"{ENV}/identities/4243/traits/": [],
    f"{ENV}/identities/4242/featurestates/": [
        {
            "id": 990,
            "feature": 42,
            "environment": 21,
            "identity": 4242,
            "feature_segment": None,
            "enabled": True,
            "feature_state_value": 100,
            "multivariate_feature_state_values": [],
        }
    ],
    f"{ENV}/identities/4243/featurestates/": [],
}
