"""Map an environment document to the engine's EvaluationContext (protocol notes §2.1).

The mapping is the one the SDKs apply to the same document for local evaluation, so remote and
local evaluation agree: feature key = ``str(django_id)``, segment key = ``str(segment id)``,
variants ordered by the ids of the multivariate-feature-state-value rows. Server-side details
(which state won) ride in each feature context's opaque ``metadata``.
"""

from __future__ import annotations

from typing import Any

from vexil.evaluation.document import Document


def environment_context(document: Document) -> dict[str, Any]:
    """The identity-less context of a document: environment, features and segments."""
    return {
        "environment": {"key": document["api_key"], "name": document["name"]},
        "features": {
            state["feature"]["name"]: feature_context(state) for state in document["feature_states"]
        },
        "segments": {
            str(segment["id"]): _segment_context(segment)
            for segment in document["project"]["segments"]
        },
    }


def feature_context(state: dict[str, Any]) -> dict[str, Any]:
    feature = state["feature"]
    context: dict[str, Any] = {
        "key": str(state["django_id"]),
        "name": feature["name"],
        "enabled": state["enabled"],
        "value": state["feature_state_value"],
        "metadata": {"id": feature["id"], "state_id": state["django_id"]},
    }
    variants = [_variant(value) for value in state["multivariate_feature_state_values"]]
    if variants:
        context["variants"] = variants
    if state.get("feature_segment") is not None:
        context["priority"] = state["feature_segment"]["priority"]
    return context


def _variant(value: dict[str, Any]) -> dict[str, Any]:
    option = value["multivariate_feature_option"]
    variant: dict[str, Any] = {
        "value": option["value"],
        "weight": value["percentage_allocation"],
        "priority": value["id"],
    }
    if option.get("key") is not None:
        variant["key"] = option["key"]
    return variant


def _segment_context(segment: dict[str, Any]) -> dict[str, Any]:
    return {
        "key": str(segment["id"]),
        "name": segment["name"],
        "rules": [_rule(rule) for rule in segment["rules"]],
        "overrides": [feature_context(s) for s in segment["feature_states"]],
        "metadata": {"id": segment["id"], "source": "api"},
    }


def _rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": rule["type"],
        "conditions": [
            {"operator": c["operator"], "property": c["property_"] or "", "value": c["value"]}
            for c in rule["conditions"]
        ],
        "rules": [_rule(sub) for sub in rule["rules"]],
    }
