"""Typed shapes of the engine's input (EvaluationContext) and output (EvaluationResult).

They describe the JSON documents of protocol §2.1 and the v3.9.0 conformance data. The engine
reads them defensively (`.get`) because they arrive from JSON, so every key is optional here
unless the protocol makes it mandatory.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NotRequired, TypedDict

#: What a condition compares against once resolved and coerced (protocol §2.4 step 4).
ContextValue = None | int | float | bool | str


class EnvironmentContext(TypedDict):
    key: str
    name: str


class IdentityContext(TypedDict, total=False):
    identifier: str
    key: str | None
    traits: Mapping[str, Any]


class VariantContext(TypedDict):
    value: Any
    weight: float
    priority: NotRequired[float]
    key: NotRequired[str | None]


class FeatureContext(TypedDict):
    key: str
    name: str
    enabled: bool
    value: Any
    variants: NotRequired[list[VariantContext]]
    priority: NotRequired[float]
    metadata: NotRequired[Mapping[str, Any]]


class SegmentCondition(TypedDict):
    operator: str
    property: str
    value: NotRequired[str | list[Any] | None]


class SegmentRule(TypedDict):
    type: str
    conditions: NotRequired[list[SegmentCondition]]
    rules: NotRequired[list[SegmentRule]]


class SegmentContext(TypedDict):
    key: str
    name: str
    rules: list[SegmentRule]
    overrides: NotRequired[list[FeatureContext]]
    metadata: NotRequired[Mapping[str, Any]]


class EvaluationContext(TypedDict):
    environment: EnvironmentContext
    identity: NotRequired[IdentityContext | None]
    features: NotRequired[Mapping[str, FeatureContext]]
    segments: NotRequired[Mapping[str, SegmentContext]]


class FlagResult(TypedDict):
    enabled: bool
    name: str
    reason: str
    value: Any
    variant: str | None
    metadata: NotRequired[Mapping[str, Any]]


class SegmentResult(TypedDict):
    name: str
    metadata: NotRequired[Mapping[str, Any]]


class EvaluationResult(TypedDict):
    flags: dict[str, FlagResult]
    segments: list[SegmentResult]


class FlagReason(TypedDict):
    """Why an identity gets a flag, in parts a page can show (`CompiledEnvironment.explain`).

    `source` is `DEFAULT` (the environment default), `SEGMENT` (the override of segment
    `segment_name`, key `segment_key`) or `IDENTITY_OVERRIDE` (the identity's own override).
    `split_weight` is the percentage allocation of the multivariate variant the identity's
    percentage fell in, or None when no variant was chosen (no split, or the control value).
    """

    source: str
    segment_key: str | None
    segment_name: str | None
    split_weight: float | None


class ExplainedFlag(TypedDict):
    flag: FlagResult
    reason: FlagReason
