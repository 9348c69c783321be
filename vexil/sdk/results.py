"""A bounded per-process cache of identities' evaluated flags, so that an SDK asking again for the
same identity with the same traits skips the engine.

An identity's flags are a pure function of the environment's snapshot (its revision), the
identity (identifier and stored id), its traits, its overrides and the kind of key asking. The
cache key holds all of them, so an entry can never be served for anything that would evaluate
differently: a trait that changed, an override added in another process (read from the database
on every request, as before) or a new revision all miss and evaluate afresh. Entries of old
revisions are never hit again and age out of the LRU.

The value is the tuple of the flags' JSON bytes, most of them shared with the snapshot's
memoised flag objects, so an entry costs little more than a pointer per flag. Keys and values
hold no object the cyclic garbage collector tracks: a full cache of tracked tuples made every
collection traverse it (docs/performance.md, "SDK endpoints"). The bound is on an
estimate of those bytes (``VEXIL_SDK_IDENTITY_CACHE_MB``; 0 turns the cache off).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Mapping
from typing import Any

import orjson
from cachetools import LRUCache

from vexil.identities.identify import IdentityOverride
from vexil.identities.selectors import StoredOverride

_ENTRY_OVERHEAD = 200  # the LRU's own bookkeeping and the entry's pair, roughly


def identity_cache_key(
    environment_id: int,
    revision: int,
    *,
    is_server: bool,
    identifier: str,
    identity_id: int | None,
    traits: Mapping[str, Any],
    overrides: Iterable[StoredOverride | IdentityOverride],
) -> bytes:
    """Everything an identity's evaluated flags depend on, as JSON bytes. JSON keeps the types
    apart (``1``, ``1.0``, ``true`` and ``"1"``), as the engine's string rules do. Bytes, not a
    tuple: a key the garbage collector never has to traverse, however many entries are held."""
    return orjson.dumps(
        [
            environment_id,
            revision,
            is_server,
            identifier,
            identity_id,
            sorted(traits.items()),
            [[o.state_id, o.feature_id, o.feature_name, o.enabled, o.value] for o in overrides],
        ]
    )


def request_cache_key(
    environment_id: int,
    revision: int,
    *,
    is_server: bool,
    identifier: str,
    transient: bool,
    traits: Iterable[tuple[str, Any, bool]],
) -> bytes:
    """An identify request as sent (identifier and incoming traits), for the answer kept to
    serve it again while the database cannot be read (``IdentityResults.put_answer``)."""
    return orjson.dumps(
        ["request", environment_id, revision, is_server, identifier, transient, list(traits)]
    )


class IdentityResults:
    """Least-recently-used, bounded by approximate bytes; safe to share between threads."""

    def __init__(self, max_bytes: int) -> None:
        self.enabled = max_bytes > 0
        self._cache: LRUCache[bytes, tuple[tuple[bytes, ...], int]] = LRUCache(
            maxsize=max(max_bytes, 1), getsizeof=_cost
        )
        # Answers by request, for outages: a quarter of the budget on top
        self._answers: LRUCache[bytes, tuple[tuple[bytes, ...], int, bytes]] = LRUCache(
            maxsize=max(max_bytes // 4, 1), getsizeof=_cost
        )
        self._lock = threading.Lock()

    def get(self, key: bytes) -> tuple[bytes, ...] | None:
        if not self.enabled:
            return None
        with self._lock:
            found = self._cache.get(key)
        return None if found is None else found[0]

    def put(self, key: bytes, flags: tuple[bytes, ...], unshared: int) -> None:
        """``unshared``: the bytes of those flags that the snapshot does not also hold."""
        if not self.enabled:
            return
        cost = _ENTRY_OVERHEAD + sys.getsizeof(flags) + unshared + sys.getsizeof(key)
        with self._lock:
            if cost <= self._cache.maxsize:
                self._cache[key] = (flags, cost)

    def put_answer(
        self, key: bytes, flags: tuple[bytes, ...], traits: bytes, unshared: int
    ) -> None:
        """The last answer to an identify request (``request_cache_key``): its flags (mostly
        shared with the snapshot) and its traits' JSON."""
        if not self.enabled:
            return
        cost = _ENTRY_OVERHEAD + sys.getsizeof(flags) + unshared + len(traits) + len(key)
        with self._lock:
            if cost <= self._answers.maxsize:
                self._answers[key] = (flags, cost, traits)

    def get_answer(self, key: bytes) -> tuple[tuple[bytes, ...], bytes] | None:
        if not self.enabled:
            return None
        with self._lock:
            found = self._answers.get(key)
        return None if found is None else (found[0], found[2])

    def __len__(self) -> int:
        return len(self._cache)

    @property
    def size(self) -> int:
        """The estimated bytes held."""
        return int(self._cache.currsize)


def _cost(entry: tuple[Any, ...]) -> int:
    cost: int = entry[1]
    return cost
