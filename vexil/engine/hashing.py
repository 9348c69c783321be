"""Deterministic bucketing of identities into percentages (protocol §2.6).

Every SDK and server must produce the same number for the same ids, so the formula is fixed:
md5 of the comma-joined ids, modulo 9999, scaled to 0..100. The hot path hashes the same
leading id (a feature key, a segment key) for every identity, so `PrefixHasher` hashes that
prefix once and only feeds the identity-dependent tail per call.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

try:
    # CPython's own md5 (the one hashlib falls back to) hashes a short string about twice as fast
    # as OpenSSL's, whose per-call overhead dominates at these lengths, and the hot path hashes
    # 20+ times per identity. Same algorithm, same digest; hashlib's where it is not built.
    from _md5 import md5 as _md5  # type: ignore[import-not-found]
except ImportError:
    _md5 = hashlib.md5

_BUCKETS = 9999
_TOP_BUCKET = _BUCKETS - 1


def hashed_percentage(ids: Sequence[object], iterations: int = 1) -> float:
    """Return a float in [0, 100) for `ids`, identical to Flagsmith's engine.

    The ids are `str()`-ed and comma-joined; the list is repeated `iterations` times.
    A bucket of exactly 100 is re-hashed with one more iteration so the result stays below 100.
    """
    joined = ",".join(str(id_) for id_ in list(ids) * iterations)
    # md5 is a bucketing function here, not a security control: the protocol fixes it.
    bucket = _bucket_of(hashlib.md5(joined.encode("utf-8"), usedforsecurity=False).digest())
    if bucket == _TOP_BUCKET:
        return hashed_percentage(ids, iterations + 1)
    return bucket / _TOP_BUCKET * 100


def _bucket_of(digest: bytes) -> int:
    # Same integer as int(hexdigest, 16), without the hex round trip.
    return int.from_bytes(digest, "big") % _BUCKETS


class PrefixHasher:
    """Hashes `[prefix_id, tail]` quickly for many tails with the same `prefix_id`.

    Immutable once built; `percentage` copies the pre-fed md5 state, so concurrent calls are safe.
    """

    __slots__ = ("_prefix_id", "_seeded")

    def __init__(self, prefix_id: object) -> None:
        self._prefix_id = prefix_id
        self._seeded = _md5(f"{prefix_id},".encode())

    def percentage(self, tail: object) -> float:
        """Same value as `hashed_percentage([prefix_id, tail])`."""
        state = self._seeded.copy()
        state.update(str(tail).encode("utf-8"))
        # _bucket_of inlined: this runs for every split flag of every identity request.
        bucket = int.from_bytes(state.digest(), "big") % _BUCKETS
        if bucket == _TOP_BUCKET:
            # Rare (1 in 9999): the repeated-ids rule needs the whole string rehashed.
            return hashed_percentage([self._prefix_id, tail], iterations=2)
        return bucket / _TOP_BUCKET * 100
