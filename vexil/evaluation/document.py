"""The environment document (protocol notes §1.9): what ``/environment-document/`` serves and
what every evaluation in Vexil is computed from.

Built in a fixed number of queries whatever the number of features, segments and overrides
(one more per level of rule nesting). Every list is present and never null (the Node SDK parses
the document strictly), ``updated_at`` carries a time zone, and ``django_id`` is each state's
stable id: the multivariate hashing seed that remote evaluation uses too.

Every id that evaluation hashes on is the object's *hashing* id: the segment ``id`` (percentage
splits), the state ``django_id`` (multivariate seed), the allocation ``id`` (variant order) and
the identity ``django_id``. For an object imported from Flagsmith that is Flagsmith's id, kept
beside Vexil's (``hashing_id``), so remote evaluation and SDKs evaluating this document locally
put every identity in the bucket Flagsmith put it in; for anything else it is Vexil's own id.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Q

from vexil.environments.models import Environment
from vexil.features.models import FeatureState, MultivariateFeatureStateValue
from vexil.identities.models import Identity
from vexil.segments.models import Condition, Segment, SegmentRule

Document = dict[str, Any]


@dataclass(frozen=True)
class EnvironmentData:
    """The document plus the server-side details the SDK responses need beside it."""

    environment_id: int
    revision: int
    updated_at: datetime
    document: Document
    features: dict[int, dict[str, Any]]  # feature id -> the full feature object of /flags/
    # segment-override state id (django_id) -> its FeatureSegment (the responses' feature_segment)
    feature_segments: dict[int, int]
    # states every identity can get (defaults and segment overrides), not identity overrides
    shared_state_ids: frozenset[int]
    # a segment's id in the document (its hashing id) -> its id in Vexil
    segment_ids: dict[int, int]


def build_environment_data(environment_id: int) -> EnvironmentData:
    environment = Environment.objects.select_related("project__organisation").get(id=environment_id)
    states = _states(environment, environment.use_identity_overrides_in_local_eval)
    segments = _project_segments(environment.project_id, states)
    return EnvironmentData(
        environment_id=environment.id,
        revision=environment.revision,
        updated_at=environment.updated_at,
        document=_document(environment, states, segments, _mv_values(environment)),
        features={s.feature_id: _feature_details(s) for s in states},
        feature_segments={
            s.django_id: s.feature_segment_id for s in states if s.feature_segment_id is not None
        },
        shared_state_ids=frozenset(s.django_id for s in states if s.identity_id is None),
        segment_ids={segment.hashing_key: segment.id for segment in segments},
    )


def _feature_details(state: FeatureState) -> dict[str, Any]:
    feature = state.feature
    return {
        "id": feature.id,
        "name": feature.name,
        "created_date": feature.created_date.isoformat(),
        "description": feature.description or None,
        "initial_value": _as_text(feature.initial_value),
        "default_enabled": feature.default_enabled,
        "type": feature.type,
    }


def _as_text(value: object) -> str | None:
    """Flagsmith serves ``initial_value`` as the text it was entered as."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _document(
    environment: Environment,
    states: list[FeatureState],
    segments: list[Segment],
    mv_values: dict[int, list[MultivariateFeatureStateValue]],
) -> Document:
    defaults = [s for s in states if s.identity_id is None and s.feature_segment_id is None]
    overrides_by_segment: dict[int, list[FeatureState]] = defaultdict(list)
    for state in states:
        if state.feature_segment is not None:
            overrides_by_segment[state.feature_segment.segment_id].append(state)
    return {
        "id": environment.id,
        "api_key": environment.api_key,
        "name": environment.name,
        "allow_client_traits": environment.allow_client_traits,
        "updated_at": environment.updated_at.isoformat(),
        "hide_sensitive_data": environment.hide_sensitive_data,
        "hide_disabled_flags": environment.hide_disabled_flags,
        "use_identity_composite_key_for_hashing": (
            environment.use_identity_composite_key_for_hashing
        ),
        "use_identity_overrides_in_local_eval": environment.use_identity_overrides_in_local_eval,
        "project": _project(environment, defaults, segments, overrides_by_segment, mv_values),
        "feature_states": [_state(s, mv_values) for s in defaults],
        "identity_overrides": (
            _identity_overrides(environment, states, mv_values)
            if environment.use_identity_overrides_in_local_eval
            else []
        ),
    }


def _states(environment: Environment, with_identity_overrides: bool) -> list[FeatureState]:
    states = FeatureState.objects.filter(environment=environment)
    if not with_identity_overrides:
        states = states.filter(identity__isnull=True)
    return list(
        states.select_related("feature", "feature_segment", "identity").order_by("feature_id", "id")
    )


def _mv_values(environment: Environment) -> dict[int, list[MultivariateFeatureStateValue]]:
    grouped: dict[int, list[MultivariateFeatureStateValue]] = defaultdict(list)
    rows = (
        MultivariateFeatureStateValue.objects.filter(feature_state__environment=environment)
        .select_related("multivariate_feature_option")
        .order_by("id")
    )
    for row in rows:
        grouped[row.feature_state_id].append(row)
    for values in grouped.values():
        values.sort(key=_by_hashing_order)
    return grouped


def _by_hashing_order(value: MultivariateFeatureStateValue) -> int:
    return value.hashing_order


def _project(
    environment: Environment,
    defaults: list[FeatureState],
    segments: list[Segment],
    overrides_by_segment: dict[int, list[FeatureState]],
    mv_values: dict[int, list[MultivariateFeatureStateValue]],
) -> dict[str, Any]:
    project = environment.project
    organisation = project.organisation
    return {
        "id": project.id,
        "name": project.name,
        "organisation": {
            "id": organisation.id,
            "name": organisation.name,
            "feature_analytics": organisation.feature_analytics,
            "stop_serving_flags": organisation.stop_serving_flags,
            "persist_trait_data": organisation.persist_trait_data,
        },
        "hide_disabled_flags": project.hide_disabled_flags,
        "enable_realtime_updates": project.enable_realtime_updates,
        "server_key_only_feature_ids": sorted(
            s.feature_id for s in defaults if s.feature.is_server_key_only
        ),
        "segments": _segments(segments, overrides_by_segment, mv_values),
    }


def _project_segments(project_id: int, states: list[FeatureState]) -> list[Segment]:
    overridden = {s.feature_segment.segment_id for s in states if s.feature_segment is not None}
    # A feature-specific segment without an override here can never match anything useful.
    return list(
        Segment.objects.filter(project_id=project_id)
        .filter(Q(feature__isnull=True) | Q(id__in=overridden))
        .order_by("id")
    )


def _segments(
    segments: list[Segment],
    overrides_by_segment: dict[int, list[FeatureState]],
    mv_values: dict[int, list[MultivariateFeatureStateValue]],
) -> list[dict[str, Any]]:
    rules = _rule_trees([s.id for s in segments])
    return [
        {
            "id": segment.hashing_key,
            "name": segment.name,
            "rules": rules.get(segment.id, []),
            "feature_states": [
                _state(s, mv_values)
                for s in sorted(overrides_by_segment.get(segment.id, []), key=_by_feature)
            ],
        }
        for segment in segments
    ]


def _by_feature(state: FeatureState) -> tuple[int, int]:
    return (state.feature_id, state.id)


def _rule_trees(segment_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Every rule and condition of these segments, nested: one query per level, then one."""
    rules: list[SegmentRule] = []
    level = list(SegmentRule.objects.filter(segment_id__in=segment_ids).order_by("id"))
    while level:
        rules.extend(level)
        level = list(SegmentRule.objects.filter(rule_id__in=[r.id for r in level]).order_by("id"))
    conditions: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for condition in Condition.objects.filter(rule_id__in=[r.id for r in rules]).order_by("id"):
        conditions[condition.rule_id].append(
            {
                "operator": condition.operator,
                "property_": condition.property,
                "value": condition.value or "",
            }
        )
    nodes: dict[int, dict[str, Any]] = {
        r.id: {"type": r.type, "rules": [], "conditions": conditions.get(r.id, [])} for r in rules
    }
    trees: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for rule in rules:
        if rule.rule_id is not None:
            nodes[rule.rule_id]["rules"].append(nodes[rule.id])
        elif rule.segment_id is not None:
            trees[rule.segment_id].append(nodes[rule.id])
    return trees


def _state(
    state: FeatureState, mv_values: dict[int, list[MultivariateFeatureStateValue]]
) -> dict[str, Any]:
    feature = state.feature
    return {
        "django_id": state.django_id,
        "featurestate_uuid": str(state.featurestate_uuid),
        "feature": {"id": feature.id, "name": feature.name, "type": feature.type},
        "enabled": state.enabled,
        "feature_state_value": state.value,
        "feature_segment": (
            {"priority": state.feature_segment.priority} if state.feature_segment else None
        ),
        "multivariate_feature_state_values": [
            {
                "id": value.hashing_order,
                "mv_fs_value_uuid": str(value.mv_fs_value_uuid),
                "percentage_allocation": float(value.percentage_allocation),
                "multivariate_feature_option": {
                    "id": value.multivariate_feature_option.id,
                    "value": value.multivariate_feature_option.value,
                    "key": value.multivariate_feature_option.key,
                },
            }
            for value in mv_values.get(state.id, [])
        ],
    }


def _identity_overrides(
    environment: Environment,
    states: Iterable[FeatureState],
    mv_values: dict[int, list[MultivariateFeatureStateValue]],
) -> list[dict[str, Any]]:
    by_identity: dict[int, list[FeatureState]] = defaultdict(list)
    identities: dict[int, Identity] = {}
    for state in states:
        if state.identity is not None:
            by_identity[state.identity.id].append(state)
            identities[state.identity.id] = state.identity
    overrides = []
    for identity_id in sorted(by_identity):
        identity = identities[identity_id]
        overrides.append(
            {
                "identifier": identity.identifier,
                "identity_uuid": str(identity.uuid),
                "django_id": identity.hashing_key,
                "composite_key": f"{environment.api_key}_{identity.identifier}",
                "environment_api_key": environment.api_key,
                "created_date": identity.created_date.isoformat(),
                "dashboard_alias": None,
                "identity_traits": [],
                "identity_features": [_state(s, mv_values) for s in by_identity[identity_id]],
            }
        )
    return overrides
