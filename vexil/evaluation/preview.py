"""What a stored identity gets right now, for the management API's ``featurestates/all/``.

The flags and their reasons come from ``vexil.evaluation.explain`` (the engine's ``explain`` on
the SDK's compiled document), so a preview never disagrees with what an SDK receives.
"""

from __future__ import annotations

from typing import Any

from vexil.engine import SOURCE_IDENTITY_OVERRIDE, SOURCE_SEGMENT
from vexil.evaluation.explain import FlagPreview, identity_flags_explained
from vexil.identities.models import Identity

_OVERRIDDEN_BY = {SOURCE_IDENTITY_OVERRIDE: "IDENTITY", SOURCE_SEGMENT: "SEGMENT"}


def identity_feature_states(identity: Identity) -> list[dict[str, Any]]:
    """Every feature's evaluated state for the identity, and what decided it."""
    preview = identity_flags_explained(identity.environment_id, identity.identifier)
    return [_feature_state(flag) for flag in preview.flags]


def _feature_state(flag: FlagPreview) -> dict[str, Any]:
    segment_id = flag.segment_id
    return {
        "feature": {"id": flag.feature_id, "name": flag.feature_name, "type": flag.feature_type},
        "enabled": flag.enabled,
        "feature_state_value": flag.value,
        "variant": flag.variant,
        "overridden_by": _OVERRIDDEN_BY.get(flag.reason["source"]),
        "segment": (
            None if segment_id is None else {"id": segment_id, "name": flag.reason["segment_name"]}
        ),
    }
