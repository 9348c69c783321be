"""What an identity gets for every flag, and why: the previews of the dashboard's Identities and
Evaluate pages and of the management API's ``featurestates/all/``.

Nothing here decides anything. The environment's document is built and compiled by the same
functions as the SDK snapshot (``vexil.sdk.snapshot``), the identity's stored traits and overrides
are read with the SDK's one read, and the engine's ``explain`` gives each flag with the reason
it is served, from the very decision that serves it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vexil.engine import (
    SOURCE_IDENTITY_OVERRIDE,
    SOURCE_SEGMENT,
    CompiledEnvironment,
    FlagReason,
    compile_environment,
)
from vexil.evaluation.context import environment_context
from vexil.evaluation.document import Document, EnvironmentData, build_environment_data
from vexil.evaluation.evaluate import identity_key, override_contexts
from vexil.identities.identify import (
    IdentityOverride,
    TraitInput,
    TraitOutput,
    identify_without_writes,
)
from vexil.identities.models import TraitValue
from vexil.identities.selectors import identity_evaluation_state


@dataclass(frozen=True, slots=True)
class FlagPreview:
    """One evaluated flag as an SDK receives it, with the reason it is served."""

    feature_id: int
    feature_name: str
    feature_type: str
    state_id: int
    enabled: bool
    value: object
    variant: str | None
    reason: FlagReason
    # Left out of every SDK response (the environment hides disabled flags).
    hidden: bool
    # Left out of responses to client-side keys (served to server-side keys only).
    server_key_only: bool
    # The Vexil id of the segment whose override is served, if one is.
    segment_id: int | None = None

    @property
    def reason_text(self) -> str:
        """The reason in words: ``default``, ``segment beta``, ``identity override``, each with
        ``, split 30%`` when a multivariate split chose the value."""
        reason = self.reason
        if reason["source"] == SOURCE_SEGMENT:
            text = f"segment {reason['segment_name']}"
        elif reason["source"] == SOURCE_IDENTITY_OVERRIDE:
            text = "identity override"
        else:
            text = "default"
        weight = reason["split_weight"]
        if weight is not None:
            text += f", split {weight:g}%"
        return text


@dataclass(frozen=True, slots=True)
class EvaluationPreview:
    """An identify call's evaluation, computed without storing anything."""

    identifier: str
    identity_id: int | None  # the stored identity, if there is one
    # The traits the evaluation used: stored ones (with their id) overlaid by the given ones.
    traits: list[TraitOutput]
    overrides: list[IdentityOverride]  # the stored identity's own overrides
    flags: list[FlagPreview]


@dataclass(frozen=True)
class CompiledDocument:
    data: EnvironmentData
    compiled: CompiledEnvironment


def compiled_document(environment_id: int) -> CompiledDocument:
    """The environment's current document, compiled exactly as the SDK snapshot compiles it."""
    data = build_environment_data(environment_id)
    return CompiledDocument(data, compile_environment(environment_context(data.document)))


def hides_disabled_flags(document: Document) -> bool:
    """Whether SDK responses leave disabled flags out: the environment's setting, or when it has
    none, the project's."""
    hide = document["hide_disabled_flags"]
    if hide is None:
        hide = document["project"]["hide_disabled_flags"]
    return bool(hide)


def server_key_only_features(document: Document) -> frozenset[str]:
    """Names of the features served to server-side keys only."""
    ids = set(document["project"]["server_key_only_feature_ids"])
    return frozenset(
        s["feature"]["name"] for s in document["feature_states"] if s["feature"]["id"] in ids
    )


def explain_flags(
    source: CompiledDocument,
    *,
    identifier: str,
    identity_id: int | None,
    traits: dict[str, TraitValue],
    overrides: Iterable[IdentityOverride],
    hashing_id: int | None = None,
) -> list[FlagPreview]:
    """Every flag of the environment for this identity, in feature order, as
    ``vexil.evaluation.evaluate.evaluate_identity`` gives them to the SDK, with reasons."""
    data = source.data
    identity = {
        "identifier": identifier,
        "key": identity_key(data, identifier, identity_id, hashing_id),
        "traits": traits,
    }
    explained = source.compiled.explain(
        identity, identity_overrides=override_contexts(overrides, identity_id)
    )
    hide_disabled = hides_disabled_flags(data.document)
    server_only = server_key_only_features(data.document)
    previews = []
    for name, entry in explained.items():
        flag = entry["flag"]
        metadata: dict[str, Any] = dict(flag.get("metadata") or {})
        feature = data.features[metadata["id"]]
        previews.append(
            FlagPreview(
                feature_id=feature["id"],
                feature_name=name,
                feature_type=feature["type"],
                state_id=metadata["state_id"],
                enabled=flag["enabled"],
                value=flag["value"],
                variant=flag["variant"],
                reason=entry["reason"],
                hidden=hide_disabled and not flag["enabled"],
                server_key_only=name in server_only,
                segment_id=_segment_id(data, entry["reason"]),
            )
        )
    return previews


def _segment_id(data: EnvironmentData, reason: FlagReason) -> int | None:
    """The segment behind a segment override's reason (its key is the segment's hashing id)."""
    key = reason["segment_key"]
    if reason["source"] != SOURCE_SEGMENT or not key:
        return None
    return data.segment_ids.get(int(key))


def identity_flags_explained(environment_id: int, identifier: str) -> EvaluationPreview:
    """The stored identity's flags with its stored traits and overrides (an identify call
    without traits), or the flags a new identity would get if it is not stored."""
    return evaluation_preview(environment_id=environment_id, identifier=identifier, traits=[])


def evaluation_preview(
    *,
    environment_id: int,
    identifier: str,
    traits: Sequence[TraitInput],
    source: CompiledDocument | None = None,
) -> EvaluationPreview:
    """What an SDK identifying ``identifier`` with ``traits`` would get, storing nothing.

    A stored identity lends its traits (the given ones win; a None value removes one, as in an
    identify call) and its overrides, and its id where the environment still hashes by id. An
    identity that is not stored is evaluated as the SDK evaluates it once created, except that
    an environment hashing by identity id cannot know the id it would get: the composite key
    stands in."""
    source = source or compiled_document(environment_id)
    stored = identity_evaluation_state(environment_id, identifier)
    outcome = identify_without_writes(stored, list(traits), transient=True, persist_traits=False)
    assert outcome is not None  # a transient identify never needs a write
    identity_id = stored.identity_id if stored else None
    flags = explain_flags(
        source,
        identifier=identifier,
        identity_id=identity_id,
        traits=outcome.trait_values,
        overrides=outcome.overrides,
        hashing_id=stored.hashing_id if stored else None,
    )
    return EvaluationPreview(identifier, identity_id, outcome.traits, outcome.overrides, flags)
