"""Feature states and their multivariate split (protocol §2.2 step 4), compiled once.

A `CompiledFeatureState` is one FeatureContext (an environment default or a segment override)
with its variants sorted by priority and turned into percentage bands, and the md5 state of its
key pre-fed, so that choosing a variant for an identity is one hash and a short scan.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, NamedTuple

from vexil.engine.hashing import PrefixHasher
from vexil.engine.types import FlagResult

CONTROL_VARIANT = "control"


class _Band(NamedTuple):
    """Identities whose percentage falls in [start, limit) get this variant."""

    start: float
    limit: float
    value: Any
    variant: str | None
    reason: str


class CompiledFeatureState:
    """One FeatureContext with the reason it is served under (DEFAULT or a segment's
    TARGETING_MATCH), ready to produce a flag result for any identity key. Immutable."""

    __slots__ = ("_bands", "_hasher", "enabled", "metadata", "name", "reason", "unsplit", "value")

    def __init__(self, feature: Mapping[str, Any], reason: str) -> None:
        self.name: str = feature["name"]
        self.enabled: bool = feature.get("enabled", False)
        self.value: Any = feature.get("value")
        value = self.value
        self.reason = reason
        # Flagsmith omits `metadata` from the result when it is absent or empty.
        self.metadata: Mapping[str, Any] | None = feature.get("metadata") or None
        self._bands = _bands_of(feature.get("variants") or ())
        self._hasher = PrefixHasher(feature.get("key")) if self._bands else None
        # Most flags have no split: their result is always this, copied per call.
        self.unsplit: FlagResult | None = None if self._bands else self._flag(value, reason, None)

    def result(self, identity_key: str | None) -> FlagResult:
        """The flag result for an identity key (None: no identity, so no split)."""
        if self._hasher is None or identity_key is None:
            return self._flag(self.value, self.reason, None)
        percentage = self._hasher.percentage(identity_key)
        for band in self._bands:
            if band.start <= percentage < band.limit:
                return self._flag(band.value, band.reason, band.variant)
        return self._flag(self.value, self.reason, CONTROL_VARIANT)

    def _flag(self, value: Any, reason: str, variant: str | None) -> FlagResult:
        flag: FlagResult = {
            "enabled": self.enabled,
            "name": self.name,
            "reason": reason,
            "value": value,
            "variant": variant,
        }
        if self.metadata is not None:
            flag["metadata"] = self.metadata
        return flag


def _bands_of(variants: Any) -> tuple[_Band, ...]:
    bands = []
    start = 0.0
    for variant in sorted(variants, key=_variant_priority):
        weight = variant.get("weight", 0)
        # Same float arithmetic, in the same order, as Flagsmith, so band edges agree exactly.
        limit = weight + start
        reason = f"SPLIT; weight={weight}"
        bands.append(_Band(start, limit, variant.get("value"), variant.get("key"), reason))
        start = limit
    return tuple(bands)


def _variant_priority(variant: Mapping[str, Any]) -> float:
    priority = variant.get("priority")
    # Flagsmith requires a priority; a missing one sorts last instead of raising.
    return math.inf if priority is None else priority
