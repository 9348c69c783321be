"""The compiled environment: compile a context once, evaluate many identities against it.

`get_evaluation_result` (the Flagsmith engine's entry point) is compile + evaluate, so the
rules live in exactly one place. The server keeps one `CompiledEnvironment` per environment
revision and evaluates every identity request against it: `evaluate_flags(identity)` when only
the flags are needed, `evaluate(identity)` when the matched segments are too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from operator import itemgetter
from typing import Any, Final, NamedTuple

from vexil.engine.context_values import Subject
from vexil.engine.features import (
    SOURCE_IDENTITY_OVERRIDE,
    SOURCE_SEGMENT,
    CompiledFeatureState,
    StateSource,
)
from vexil.engine.operators import Predicate
from vexil.engine.segments import compile_segment_rules
from vexil.engine.types import EvaluationResult, ExplainedFlag, FlagResult, SegmentResult

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


# `evaluate_flags` unpacks these in its inner loops, so they are plain tuples: CPython unpacks
# an exact tuple measurably faster than a NamedTuple.

#: A segment override of a feature: (the segment's index in `_segments`, which keys the per-call
#: memo; the segment's predicate, so the loop need not look it up; the override's state).
_Candidate = tuple[int, Predicate, CompiledFeatureState]
#: How `evaluate_flags` serves one feature: (name, state, candidates). The state of the first
#: candidate whose segment matches (candidates are ranked winner first), else `state`: the
#: default, or the identity's own override (then with no candidates).
_FeaturePlan = tuple[str, CompiledFeatureState, tuple[_Candidate, ...]]


class CompiledEnvironment:
    """An EvaluationContext without identity, with every rule compiled. Immutable, thread-safe.

    The compiled form keeps references to the context's values and metadata and returns them
    inside results: treat both the source context and results' values as read-only.
    """

    __slots__ = (
        "_defaults",
        "_environment_key",
        "_plan_position",
        "_plans",
        "_segments",
        "_static_document",
    )

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
        self._plans: tuple[_FeaturePlan, ...] | None = _plan_features(
            self._defaults, self._segments
        )
        # Of features sharing a name, the last sets the flag's value (see `evaluate`): that is
        # the plan an identity override of the name replaces.
        self._plan_position: Mapping[str, int] = {
            default.name: position for position, default in enumerate(self._defaults)
        }

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
        key, segments, winners = self._decide(identity, identity_overrides)
        flags: dict[str, FlagResult] = {}
        for default in self._defaults:
            name = default.name
            winner = winners.get(name) if winners else None
            flags[name] = (default if winner is None else winner.state).result(key)
        return {"flags": flags, "segments": segments}

    def explain(
        self,
        identity: Mapping[str, Any] | None,
        identity_overrides: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, ExplainedFlag]:
        """Each flag of `evaluate(identity, identity_overrides)["flags"]` (the same flags, in
        the same order, equal to `evaluate_flags`'s) with the reason it is served: the
        environment default, a segment's override (which segment), the identity's own override,
        and the weight of the variant a split chose.

        For previews, not for the hot path: every segment runs. The reason is read from the
        decision `evaluate` makes (the winning state and the result it produced), never made
        a second time."""
        key, _, winners = self._decide(identity, identity_overrides)
        explained: dict[str, ExplainedFlag] = {}
        for default in self._defaults:
            winner = winners.get(default.name)
            state = default if winner is None else winner.state
            flag = state.result(key)
            explained[default.name] = {"flag": flag, "reason": state.explanation(flag)}
        return explained

    def _decide(
        self,
        identity: Mapping[str, Any] | None,
        identity_overrides: Sequence[Mapping[str, Any]],
    ) -> tuple[str | None, list[SegmentResult], dict[str, _Override]]:
        """The identity key, the matched segments and each overridden feature's winner."""
        enriched = self._enrich(identity)
        subject = Subject(
            enriched,
            enriched.get("key") if enriched else None,
            self._static_document,
        )
        segments, winners = self._match_segments(subject)
        if identity_overrides:
            _apply_identity_overrides(identity_overrides, segments, winners)
        return subject.key, segments, winners

    def evaluate_flags(
        self,
        identity: Mapping[str, Any] | None,
        identity_overrides: Sequence[Mapping[str, Any]] = (),
    ) -> dict[str, FlagResult]:
        """Exactly `evaluate(identity, identity_overrides)["flags"]`: the same flags, in the same
        order, with the same values, reasons, variants and metadata.

        Only the segments that can still decide a flag are evaluated, each at most once per
        call: a segment without overrides never is, nor are the segments of a feature that has
        an identity override or whose better-placed candidate already matched.
        """
        plans: Sequence[_FeaturePlan] | None = self._plans
        if plans is None:
            return self.evaluate(identity, identity_overrides)["flags"]
        if identity_overrides:
            plans = self._with_identity_overrides(plans, identity_overrides)
        enriched = self._enrich(identity)
        key = enriched.get("key") if enriched else None
        # Per call, so the compiled environment stays immutable. None: not evaluated yet.
        matched: list[bool | None] = [None] * len(self._segments)
        subject: Subject | None = None  # built on the first segment evaluated, if any
        flags: dict[str, FlagResult] = {}
        # The candidate walk is inlined: this loop runs for every feature of every identity
        # request, and a call per feature would cost more than the walk itself.
        for name, state, candidates in plans:
            for index, matches, override in candidates:
                is_match = matched[index]
                if is_match is None:
                    if subject is None:
                        subject = Subject(enriched, key, self._static_document)
                    is_match = matched[index] = matches(subject)
                if is_match:
                    state = override
                    break
            flags[name] = state.result(key)
        return flags

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

    def _with_identity_overrides(
        self, plans: Sequence[_FeaturePlan], overrides: Sequence[Mapping[str, Any]]
    ) -> list[_FeaturePlan]:
        """`plans` with each feature the identity overrides served that override, asking no
        segment: its priority is -inf, so no segment override can beat it."""
        overridden = list(plans)
        for name, state in _identity_override_states(overrides).items():
            position = self._plan_position.get(name)
            if position is not None:
                overridden[position] = (name, state, ())
        return overridden

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
    segment: Mapping[str, Any],
    static_document: Mapping[str, Any],
    source_kind: str = SOURCE_SEGMENT,
) -> _CompiledSegment:
    name = segment.get("name", "")
    result: SegmentResult = {"name": name}
    if segment.get("metadata"):
        result["metadata"] = segment["metadata"]
    reason = f"{_TARGETING_MATCH}{name}"
    source: StateSource = (
        (source_kind, segment.get("key"), name)
        if source_kind == SOURCE_SEGMENT
        else (source_kind, None, None)
    )
    overrides = tuple(
        _Override(
            override["name"], _priority(override), CompiledFeatureState(override, reason, source)
        )
        for override in segment.get("overrides") or ()
    )
    matches = compile_segment_rules(segment.get("rules"), segment.get("key"), static_document)
    return _CompiledSegment(matches, result, overrides)


def _plan_features(
    defaults: Sequence[CompiledFeatureState], segments: Sequence[_CompiledSegment]
) -> tuple[_FeaturePlan, ...] | None:
    """Each feature's segment overrides in the order `_match_segments` ranks them.

    That order picks the least priority, and of equals the first seen (segments in order, then
    each segment's overrides in order). So a stable sort of every override of a feature by
    priority puts the winner among any set of matching segments before every other candidate:
    the first candidate whose segment matches wins, and the segments after it need not run.

    This holds only if priorities are totally ordered. None if one is not a number or is NaN
    (a document never has such priorities): `evaluate_flags` then falls back to `evaluate`.
    """
    found: dict[str, list[tuple[float, _Candidate]]] = {}
    for index, segment in enumerate(segments):
        for override in segment.overrides:
            if not _is_ordered_priority(override.priority):
                return None
            candidate = (index, segment.matches, override.state)
            found.setdefault(override.feature_name, []).append((override.priority, candidate))
    ranked = {
        name: tuple(candidate for _, candidate in sorted(rows, key=itemgetter(0)))
        for name, rows in found.items()
    }
    return tuple((default.name, default, ranked.get(default.name, ())) for default in defaults)


def _is_ordered_priority(priority: object) -> bool:
    return isinstance(priority, int | float) and not math.isnan(priority)


def _identity_overrides_segment(overrides: Sequence[Mapping[str, Any]]) -> _CompiledSegment:
    return _compile_segment(
        {
            "name": IDENTITY_OVERRIDES_SEGMENT,
            "overrides": [{**o, "priority": -math.inf} for o in overrides],
        },
        {},
        SOURCE_IDENTITY_OVERRIDE,
    )


def _apply_identity_overrides(
    overrides: Sequence[Mapping[str, Any]],
    segments: list[SegmentResult],
    winners: dict[str, _Override],
) -> None:
    segment = _identity_overrides_segment(overrides)
    segments.append(dict(segment.result))  # type: ignore[arg-type]
    for override in segment.overrides:
        winners[override.feature_name] = override


def _identity_override_states(
    overrides: Sequence[Mapping[str, Any]],
) -> dict[str, CompiledFeatureState]:
    """Each feature's state from the identity's own overrides (the last one of a name wins, as
    in `_apply_identity_overrides`). Their priority is -inf: no segment override beats them."""
    segment = _identity_overrides_segment(overrides)
    return {override.feature_name: override.state for override in segment.overrides}


def _priority(override: Mapping[str, Any]) -> float:
    priority = override.get("priority")
    # A missing priority is the weakest (+inf), so any explicit priority beats it.
    return math.inf if priority is None else priority
