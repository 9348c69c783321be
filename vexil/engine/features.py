"""Feature states and their multivariate split (protocol §2.2 step 4), compiled once.

A `CompiledFeatureState` is one FeatureContext (an environment default or a segment override)
with its variants sorted by priority and turned into percentage bands, and the md5 state of its
key pre-fed, so that choosing a variant for an identity is one hash and a short scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final

from vexil.engine.hashing import PrefixHasher
from vexil.engine.types import FlagReason, FlagResult

CONTROL_VARIANT = "control"

#: `FlagReason.source` values: the environment default, a segment's override, the identity's own.
SOURCE_DEFAULT: Final = "DEFAULT"
SOURCE_SEGMENT: Final = "SEGMENT"
SOURCE_IDENTITY_OVERRIDE: Final = "IDENTITY_OVERRIDE"

#: Where a state comes from, for `explanation`: (FlagReason source, segment key, segment name).
StateSource = tuple[str, str | None, str | None]
DEFAULT_SOURCE: StateSource = (SOURCE_DEFAULT, None, None)


#: Identities whose percentage falls in [start, limit) get this variant:
#: (start, limit, value, variant key, reason). A plain tuple: `result` unpacks it on the hot
#: path, and CPython unpacks an exact tuple measurably faster than a NamedTuple.
_Band = tuple[float, float, Any, str | None, str]


class CompiledFeatureState:
    """One FeatureContext with the reason it is served under (DEFAULT or a segment's
    TARGETING_MATCH), ready to produce a flag result for any identity key. Immutable."""

    __slots__ = (
        "_bands",
        "_hasher",
        "_source",
        "_split_weights",
        "_unsplit",
        "enabled",
        "metadata",
        "name",
        "reason",
        "value",
    )

    def __init__(
        self, feature: Mapping[str, Any], reason: str, source: StateSource = DEFAULT_SOURCE
    ) -> None:
        self.name: str = feature["name"]
        self.enabled: bool = feature.get("enabled", False)
        self.value: Any = feature.get("value")
        self.reason = reason
        # Flagsmith omits `metadata` from the result when it is absent or empty.
        self.metadata: Mapping[str, Any] | None = feature.get("metadata") or None
        self._bands = _bands_of(feature.get("variants") or ())
        self._source = source
        # A band's reason names its weight, so the reason a result carries says which weight
        # chose it: `explanation` reads the decision `result` made instead of making it again.
        self._split_weights = {
            _split_reason(weight): weight
            for weight in (v.get("weight", 0) for v in feature.get("variants") or ())
        }
        self._hasher = PrefixHasher(feature.get("key")) if self._bands else None
        # The result without a split: every result is a copy of it, with the split's choice
        # written over value, reason and variant (same keys, so the same key order).
        unsplit: FlagResult = {
            "enabled": self.enabled,
            "name": self.name,
            "reason": reason,
            "value": self.value,
            "variant": None,
        }
        if self.metadata is not None:
            unsplit["metadata"] = self.metadata
        self._unsplit = unsplit

    def result(self, identity_key: str | None) -> FlagResult:
        """The flag result for an identity key (None: no identity, so no split). A new dict on
        every call: callers may change it."""
        if self._hasher is None or identity_key is None:
            return self._unsplit.copy()
        percentage = self._hasher.percentage(identity_key)
        for start, limit, value, variant, reason in self._bands:
            if start <= percentage < limit:
                return self._split_flag(value, reason, variant)
        return self._split_flag(self.value, self.reason, CONTROL_VARIANT)

    def explanation(self, flag: FlagResult) -> FlagReason:
        """Why `flag`, a result of this state, is served: this state's source, and the weight
        of the variant the split chose, if it chose one."""
        source, segment_key, segment_name = self._source
        return {
            "source": source,
            "segment_key": segment_key,
            "segment_name": segment_name,
            "split_weight": self._split_weights.get(flag["reason"]),
        }

    def _split_flag(self, value: Any, reason: str, variant: str | None) -> FlagResult:
        flag = self._unsplit.copy()
        flag["reason"] = reason
        flag["value"] = value
        flag["variant"] = variant
        return flag


def _bands_of(variants: Any) -> tuple[_Band, ...]:
    bands = []
    start = 0.0
    for variant in sorted(variants, key=_variant_priority):
        weight = variant.get("weight", 0)
        # Same float arithmetic, in the same order, as Flagsmith, so band edges agree exactly.
        limit = weight + start
        reason = _split_reason(weight)
        bands.append((start, limit, variant.get("value"), variant.get("key"), reason))
        start = limit
    return tuple(bands)


def _split_reason(weight: float) -> str:
    return f"SPLIT; weight={weight}"


def _variant_priority(variant: Mapping[str, Any]) -> float:
    priority = variant.get("priority")
    # Flagsmith requires a priority; a missing one sorts last instead of raising.
    return math.inf if priority is None else priority
