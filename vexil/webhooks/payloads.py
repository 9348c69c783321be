"""Flagsmith's webhook payloads, byte for byte.

The body is ``{"data": ..., "event_type": ...}`` serialised with sorted keys at every level and
Python's default separators (``", "`` and ``": "``), so a receiver that verifies
``X-Flagsmith-Signature`` over the raw body, or re-serialises as Flagsmith does, agrees with us.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from vexil.audit.models import AuditLog
from vexil.features.models import FeatureState
from vexil.users.models import User

TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def body_of(event_type: str, data: dict[str, Any]) -> str:
    return json.dumps(
        {"data": data, "event_type": event_type}, sort_keys=True, cls=DjangoJSONEncoder
    )


def timestamp(moment: datetime | None) -> str:
    return moment.strftime(TIMESTAMP_FORMAT) if moment is not None else ""


def feature_state_data(state: FeatureState) -> dict[str, Any]:
    """Flagsmith's feature-state object (``new_state`` / ``previous_state``)."""
    feature = state.feature
    identity = state.identity
    return {
        "enabled": state.enabled,
        "environment": {"id": state.environment_id, "name": state.environment.name},
        "feature": {
            "created_date": timestamp(feature.created_date),
            "default_enabled": feature.default_enabled,
            "description": feature.description or None,
            "id": feature.pk,
            "initial_value": feature.initial_value,
            "name": feature.name,
            "project": {"id": feature.project_id, "name": feature.project.name},
            "type": feature.type,
        },
        "feature_segment": _feature_segment_data(state),
        "feature_state_value": state.value,
        "identity": identity.pk if identity is not None else None,
        "identity_identifier": identity.identifier if identity is not None else None,
        "multivariate_feature_state_values": [
            {
                "id": row.pk,
                "multivariate_feature_option": {
                    "id": row.multivariate_feature_option_id,
                    "value": row.multivariate_feature_option.value,
                },
                "percentage_allocation": row.percentage_allocation,
            }
            for row in state.multivariate_feature_state_values.select_related(
                "multivariate_feature_option"
            ).order_by("id")
        ],
    }


def _feature_segment_data(state: FeatureState) -> dict[str, Any] | None:
    feature_segment = state.feature_segment
    if feature_segment is None:
        return None
    segment = feature_segment.segment
    return {
        "priority": feature_segment.priority,
        "segment": {
            "description": segment.description or None,
            "id": segment.pk,
            "name": segment.name,
        },
    }


def flag_event_data(
    *,
    new_state: dict[str, Any] | None,
    previous_state: dict[str, Any] | None,
    changed_by: str,
    moment: datetime | None,
) -> dict[str, Any]:
    """``FLAG_UPDATED`` / ``FLAG_DELETED`` data; ``previous_state`` is absent when there is none."""
    data: dict[str, Any] = {
        "changed_by": changed_by,
        "new_state": new_state,
        "timestamp": timestamp(moment),
    }
    if previous_state is not None:
        data["previous_state"] = previous_state
    return data


def audit_log_data(row: AuditLog) -> dict[str, Any]:
    """``AUDIT_LOG_CREATED`` data, in the shape of Flagsmith's ``AuditLogListSerializer``."""
    resource_id = row.resource_id
    return {
        "id": row.pk,
        "created_date": timestamp(row.created_date),
        "log": row.log,
        "author": _author_data(row.author) if row.author is not None else None,
        "environment": _environment_data(row) if row.environment is not None else None,
        "project": _project_data(row) if row.project is not None else None,
        "related_object_id": int(resource_id) if resource_id.isdigit() else None,
        "related_object_uuid": None if resource_id.isdigit() else resource_id,
        "related_object_type": row.resource_type.upper(),
        "is_system_event": row.author_id is None and not row.master_api_key_name,
    }


def _author_data(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "last_login": timestamp(user.last_login) or None,
    }


def _environment_data(row: AuditLog) -> dict[str, Any]:
    environment = row.environment
    assert environment is not None
    return {
        "id": environment.pk,
        "uuid": str(environment.uuid),
        "name": environment.name,
        "api_key": environment.api_key,
        "description": environment.description,
        "project": environment.project_id,
    }


def _project_data(row: AuditLog) -> dict[str, Any]:
    project = row.project
    assert project is not None
    return {
        "id": project.pk,
        "uuid": str(project.uuid),
        "name": project.name,
        "organisation": project.organisation_id,
        "hide_disabled_flags": project.hide_disabled_flags,
        "enable_realtime_updates": project.enable_realtime_updates,
    }


# --- The samples ``webhooks/test/`` sends (Flagsmith's, value for value) ---------------------
def _sample_state(*, enabled: bool, value: str) -> dict[str, Any]:
    return {
        "enabled": enabled,
        "environment": {"id": 1, "name": "Development"},
        "feature": {
            "created_date": "2021-02-10T20:03:43.348556Z",
            "default_enabled": False,
            "description": "This is a description",
            "id": 1,
            "initial_value": None,
            "name": "test_feature",
            "project": {"id": 1, "name": "Test Project"},
            "type": "CONFIG",
        },
        "feature_segment": None,
        "feature_state_value": value,
        "identity": 1,
        "identity_identifier": "test_identity",
        "multivariate_feature_state_values": [
            {
                "id": 1,
                "multivariate_feature_option": {"id": 1, "value": "variant_a"},
                "percentage_allocation": 50,
            }
        ],
    }


SAMPLE_ENVIRONMENT_EVENT: dict[str, Any] = {
    "event_type": "FLAG_UPDATED",
    "data": {
        "changed_by": "user@domain.com",
        "new_state": _sample_state(enabled=True, value="feature_state_value"),
        "previous_state": _sample_state(enabled=False, value="old_feature_state_value"),
        "timestamp": "2021-06-18T07:50:26.595298Z",
    },
}

SAMPLE_FEATURE_NAME = "my_feature"
SAMPLE_ORGANISATION_EVENT: dict[str, Any] = {
    "event_type": "AUDIT_LOG_CREATED",
    "data": {
        "created_date": "2020-02-23T17:30:57.006318Z",
        "log": f"New Flag / Remote Config created: {SAMPLE_FEATURE_NAME}",
        "author": {"id": 1, "email": "user@domain.com", "first_name": "Jane", "last_name": "Doe"},
        "environment": None,
        "project": {"id": 1, "name": "Test Project", "organisation": 1},
        "related_object_id": 1,
        "related_object_type": "FEATURE",
    },
}
