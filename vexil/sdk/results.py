"""A bounded per-process cache of identities' evaluated flags, so that an SDK asking again for the
same identity with the same traits skips the engine.

An identity's flags are a pure function of the environment's snapshot (its revision), the
identity (identifier and stored id), its traits, its overrides and the kind of key asking. The
cache key holds all of them, so an entry can never be served for anything that would evaluate
differently: a trait that changed, an override added in another process (read from the database
on every request, as before) or a new revision all miss and evaluate afresh. Entries of old
revisions are never hit again and age out of the LRU.

The value is the tuple of the flags' JSON bytes, most of them shared with the snapshot's
memoised flag objects, so an entry costs little more than a pointer per flag. The bound is on an
estimate of those bytes (``VEXIL_SDK_IDENTITY_CACHE_MB``; 0 turns the cache off).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Hashable, Iterable, Mapping
from typing import Any

from cachetools import LRUCache

_ENTRY_OVERHEAD = 200  # the LRU's own bookkeeping and the key's tuple, roughly


def identity_cache_key(
    environment_id: int,
    revision: int,
    *,
    is_server: bool,
    identifier: str,
    identity_id: int | None,
    traits: Mapping[str, Any],
    overrides: Iterable[Hashable],
) -> tuple[Hashable, ...]:
    """Everything an identity's evaluated flags depend on. Values carry their type: 1, 1.0 and
    True are equal in Python but not to the engine's string comparisons nor in JSON."""
    return (
        environment_id,
        revision,
        is_server,
        identifier,
        identity_id,
        tuple((key, type(value), value) for key, value in sorted(traits.items())),
        tuple((override, type(getattr(override, "value", None))) for override in overrides),
    )


class IdentityResults:
    """Least-recently-used, bounded by approximate bytes; safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.enabled = max_bytes > 0
        self._cache: LRUCache[tuple[Hashable, ...], tuple[tuple[bytes, ...], int]] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_cost
        )
        self._lock = threading.Lock()

    def get(self, key: tuple[Hashable, ...]) -> tuple[bytes, ...] | None:
        if not self.enabled:
            return None
        with self._lock:
            found = self._cache.get(key)
        return None if found is None else found[0]

    def put(self, key: tuple[Hashable, ...], flags: tuple[bytes, ...], unshared: int) -> None:
        """``unshared``: the bytes of those flags that the snapshot does not also hold."""
        if not self.enabled:
            return
        cost = _ENTRY_OVERHEAD + sys.getsizeof(flags) + unshared + _key_bytes(key)
        with self._lock:
            if cost <= self._cache.maxsize:
                self._cache[key] = (flags, cost)

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def size(self) -> int:
        """The estimated bytes held."""
        return int(self._cache.currsize)


def _key_bytes(key: tuple[Hashable, ...]) -> int:
    identifier, traits = key[3], key[5]
    assert isinstance(identifier, str)
    assert isinstance(traits, tuple)
    return len(identifier) + sum(100 + len(name) + len(str(value)) for name, _, value in traits)


def _cost(entry: tuple[tuple[bytes, ...], int]) -> int:
    return entry[1]
