"""The compiled environment: compile a context once, evaluate many identities against it.

`get_evaluation_result` (the Flagsmith engine's entry point) is compile + evaluate, so the
rules live in exactly one place. The server keeps one `CompiledEnvironment` per environment
revision and calls `evaluate(identity)` for every identity request.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, Final, NamedTuple

from vexil.engine.context_values import Subject
from vexil.engine.features import CompiledFeatureState
from vexil.engine.operators import Predicate
from vexil.engine.segments import compile_segment_rules
from vexil.engine.types import EvaluationResult, FlagResult, SegmentResult

#: Reason for a flag that kept its environment default (engine 10 / test data v3.9.0; engine 11
#: says STATIC when no segment overrides the feature at all).
DEFAULT_REASON: Final = "DEFAULT"
_TARGETING_MATCH: Final = "TARGETING_MATCH; segment="
#: The synthetic segment the SDKs build from a document's identity overrides (protocol §2.1).
IDENTITY_OVERRIDES_SEGMENT: Final = "identity_overrides"


class _Override(NamedTuple):
    feature_name: str
    priority: float
    state: CompiledFeatureState


class _CompiledSegment(NamedTuple):
    matches: Predicate
    result: SegmentResult
    overrides: tuple[_Override, ...]


class CompiledEnvironment:
    """An EvaluationContext without identity, with every rule compiled. Immutable, thread-safe.

    The compiled form keeps references to the context's values and metadata and returns them
    inside results: treat both the source context and results' values as read-only.
    """

    __slots__ = ("_defaults", "_environment_key", "_segments", "_static_document")

    def __init__(self, context: Mapping[str, Any]) -> None:
        static_document = {name: part for name, part in context.items() if name != "identity"}
        self._static_document: Mapping[str, Any] = static_document
        self._environment_key: str = (context.get("environment") or {}).get("key", "")
        features = context.get("features") or {}
        self._defaults: tuple[CompiledFeatureState, ...] = tuple(
            CompiledFeatureState(feature, DEFAULT_REASON) for feature in features.values()
        )
        self._segments: tuple[_CompiledSegment, ...] = tuple(
            _compile_segment(segment, static_document)
            for segment in (context.get("segments") or {}).values()
        )

    def evaluate(
        self,
        identity: Mapping[str, Any] | None,
        identity_overrides: Sequence[Mapping[str, Any]] = (),
    ) -> EvaluationResult:
        """Evaluate every segment and flag for `identity` (`identifier`, `key`?, `traits`?).

        `identity=None` evaluates the context without an identity, as the engine does:
        segments can still match on `$.environment.*` or IS_NOT_SET conditions.

        `identity_overrides` are this identity's own feature contexts (name, enabled, value,
        metadata; no variants). They act exactly as the SDKs' synthetic `identity_overrides`
        segment matching this identity: priority -inf, so they beat every segment override.
        """
        enriched = self._enrich(identity)
        subject = Subject(
            enriched,
            enriched.get("key") if enriched else None,
            self._static_document,
        )
        segments, winners = self._match_segments(subject)
        if identity_overrides:
            _apply_identity_overrides(identity_overrides, segments, winners)
        key = subject.key
        flags: dict[str, FlagResult] = {}
        for default in self._defaults:
            name = default.name
            winner = winners.get(name) if winners else None
            flags[name] = (default if winner is None else winner.state).result(key)
        return {"flags": flags, "segments": segments}

    def evaluate_defaults(self) -> EvaluationResult:
        """The environment defaults only: no identity, no segments (the `/flags/` response).

        This is what the core API and the SDKs serve for environment-level flags: segment
        overrides never apply without an identity, and multivariate values stay on control.
        """
        flags = {default.name: default.result(None) for default in self._defaults}
        return {"flags": flags, "segments": []}

    def _enrich(self, identity: Mapping[str, Any] | None) -> Mapping[str, Any] | None:
        """Fill in the identity key `<environment key>_<identifier>` if it is missing."""
        if not identity:
            return None
        if identity.get("key"):
            return identity
        identifier = identity.get("identifier", "")
        return {**identity, "key": f"{self._environment_key}_{identifier}"}

    def _match_segments(self, subject: Subject) -> tuple[list[SegmentResult], dict[str, _Override]]:
        matched: list[SegmentResult] = []
        winners: dict[str, _Override] = {}
        for segment in self._segments:
            if not segment.matches(subject):
                continue
            matched.append(dict(segment.result))  # type: ignore[arg-type]
            for override in segment.overrides:
                current = winners.get(override.feature_name)
                # Strictly lower priority wins, so the first segment seen wins a tie.
                if current is None or override.priority < current.priority:
                    winners[override.feature_name] = override
        return matched, winners


def compile_environment(context: Mapping[str, Any]) -> CompiledEnvironment:
    """Compile an EvaluationContext once. Its `identity`, if any, is ignored: pass identities
    to `CompiledEnvironment.evaluate` instead."""
    return CompiledEnvironment(context)


def get_evaluation_result(context: Mapping[str, Any]) -> EvaluationResult:
    """Evaluate a full EvaluationContext (protocol §2.1), exactly like Flagsmith's engine."""
    return compile_environment(context).evaluate(context.get("identity"))


def _compile_segment(
    segment: Mapping[str, Any], static_document: Mapping[str, Any]
) -> _CompiledSegment:
    name = segment.get("name", "")
    result: SegmentResult = {"name": name}
    if segment.get("metadata"):
        result["metadata"] = segment["metadata"]
    reason = f"{_TARGETING_MATCH}{name}"
    overrides = tuple(
        _Override(override["name"], _priority(override), CompiledFeatureState(override, reason))
        for override in segment.get("overrides") or ()
    )
    matches = compile_segment_rules(segment.get("rules"), segment.get("key"), static_document)
    return _CompiledSegment(matches, result, overrides)


def _apply_identity_overrides(
    overrides: Sequence[Mapping[str, Any]],
    segments: list[SegmentResult],
    winners: dict[str, _Override],
) -> None:
    segment = _compile_segment(
        {
            "name": IDENTITY_OVERRIDES_SEGMENT,
            "overrides": [{**o, "priority": -math.inf} for o in overrides],
        },
        {},
    )
    segments.append(dict(segment.result))  # type: ignore[arg-type]
    for override in segment.overrides:
        winners[override.feature_name] = override


def _priority(override: Mapping[str, Any]) -> float:
    priority = override.get("priority")
    # A missing priority is the weakest (+inf), so any explicit priority beats it.
    return math.inf if priority is None else priority
