"""What a stored identity gets right now, for the management API and the dashboard.

It compiles the environment's current document and evaluates with the engine, exactly as the SDK
endpoints do, so a preview never disagrees with what an SDK receives.
"""

from __future__ import annotations

from typing import Any

from vexil.engine import compile_environment
from vexil.evaluation.context import environment_context
from vexil.evaluation.document import build_environment_data
from vexil.evaluation.evaluate import evaluate_identity
from vexil.identities.identify import override_of
from vexil.identities.models import Identity
from vexil.identities.selectors import identity_evaluation_state


def identity_feature_states(identity: Identity) -> list[dict[str, Any]]:
    """Every feature's evaluated state for the identity, and what decided it."""
    data = build_environment_data(identity.environment_id)
    compiled = compile_environment(environment_context(data.document))
    # The same single read the SDK endpoints make, so a preview sees what an SDK would.
    stored = identity_evaluation_state(identity.environment_id, identity.identifier)
    traits = {trait.key: trait.value for trait in stored.traits} if stored else {}
    overrides = [override_of(o) for o in stored.overrides] if stored else []
    results = evaluate_identity(
        compiled,
        data,
        identifier=identity.identifier,
        identity_id=identity.pk,
        traits=traits,
        overrides=overrides,
    )
    segment_of_state = {
        state["django_id"]: {"id": segment["id"], "name": segment["name"]}
        for segment in data.document["project"]["segments"]
        for state in segment["feature_states"]
    }
    states = []
    for result in results.values():
        metadata = result["metadata"]
        segment = segment_of_state.get(metadata["state_id"])
        overridden_by = (
            "IDENTITY" if metadata.get("identity_id") else "SEGMENT" if segment else None
        )
        feature = data.features[metadata["id"]]
        states.append(
            {
                "feature": {"id": feature["id"], "name": feature["name"], "type": feature["type"]},
                "enabled": result["enabled"],
                "feature_state_value": result["value"],
                "variant": result["variant"],
                "overridden_by": overridden_by,
                "segment": segment if overridden_by == "SEGMENT" else None,
            }
        )
    return states
