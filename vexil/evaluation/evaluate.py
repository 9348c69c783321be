"""Remote evaluation of one identity against an environment's compiled form.

The rules are the engine's alone; this only builds the identity part of the context the way the
SDKs do for the same document, so that remote evaluation equals local evaluation.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from vexil.engine import CompiledEnvironment, FlagResult
from vexil.evaluation.document import EnvironmentData
from vexil.identities.identify import IdentityOverride
from vexil.identities.models import TraitValue


def identity_key(
    data: EnvironmentData, identifier: str, identity_id: int | None, hashing_id: int | None = None
) -> str:
    """The key hashed for splits (protocol notes §2.7): the composite key, unless a legacy
    environment hashes stored identities by their id (the id Flagsmith gave an imported identity,
    ``hashing_id``, else Vexil's)."""
    document = data.document
    if not document["use_identity_composite_key_for_hashing"] and identity_id is not None:
        return str(identity_id if hashing_id is None else hashing_id)
    return f"{document['api_key']}_{identifier}"


def override_contexts(
    overrides: Iterable[IdentityOverride], identity_id: int | None
) -> list[dict[str, Any]]:
    """The engine's form of an identity's overrides; metadata names the state and the identity
    (the document may not list identity overrides, so the response cannot look them up)."""
    return [
        {
            "key": str(override.state_id),
            "name": override.feature_name,
            "enabled": override.enabled,
            "value": override.value,
            "metadata": {
                "id": override.feature_id,
                "state_id": override.state_id,
                "identity_id": identity_id,
            },
        }
        for override in overrides
    ]


def evaluate_identity(
    compiled: CompiledEnvironment,
    data: EnvironmentData,
    *,
    identifier: str,
    identity_id: int | None,
    traits: dict[str, TraitValue],
    overrides: Iterable[IdentityOverride],
    hashing_id: int | None = None,
) -> dict[str, FlagResult]:
    """The evaluated flags (engine result shape), keyed by feature name, in feature order."""
    identity = {
        "identifier": identifier,
        "key": identity_key(data, identifier, identity_id, hashing_id),
        "traits": traits,
    }
    return compiled.evaluate_flags(
        identity, identity_overrides=override_contexts(overrides, identity_id)
    )
