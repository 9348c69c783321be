"""Everything the SDK endpoints serve that does not depend on the caller, per environment
revision: built once when the revision moves, then served from memory."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from email.utils import format_datetime
from typing import Any

import orjson

from vexil.engine import CompiledEnvironment, compile_environment
from vexil.evaluation.context import environment_context
from vexil.evaluation.document import EnvironmentData, build_environment_data
from vexil.evaluation.explain import hides_disabled_flags, server_key_only_features
from vexil.sdk.compression import SHARED_LEVEL, gzip_bytes

_MAX_MEMOISED_FLAGS = 100_000  # a guard: states x variants stays far below it
_SENSITIVE_FLAG_FIELDS = ("id", "environment", "identity", "feature_segment")
_SENSITIVE_FEATURE_FIELDS = ("created_date", "description", "initial_value", "default_enabled")


@dataclass(frozen=True)
class EnvironmentSnapshot:
    revision: int
    data: EnvironmentData
    compiled: CompiledEnvironment
    hide_disabled_flags: bool
    hide_sensitive_data: bool
    allow_client_traits: bool
    server_only_features: frozenset[str]
    updated_at_header: str  # X-Flagsmith-Document-Updated-At
    last_modified: str  # HTTP date, second precision
    updated_at_seconds: int
    etag: str
    document_body: bytes
    flags_body: dict[bool, bytes]  # keyed by "is a server key"
    flag_bodies: dict[tuple[bool, str], bytes]  # ?feature=<name>
    feature_ids: dict[str, int]
    # identity flag objects' bytes by (state id, feature id, value, enabled, variant), filled
    # on first use (see identity_flag_json)
    identity_flags: dict[tuple[Any, ...], bytes]
    # gzipped shared bodies by name, filled on first use (see gzipped)
    gzipped_bodies: dict[Hashable, bytes] = field(default_factory=dict)

    def gzipped(self, name: Hashable, body: bytes) -> Callable[[], bytes]:
        """A getter of ``body`` gzipped, compressed on first use and kept with the snapshot:
        ``name`` says which of the snapshot's bodies it is."""

        def get() -> bytes:
            found = self.gzipped_bodies.get(name)
            if found is None:
                found = self.gzipped_bodies[name] = gzip_bytes(body, SHARED_LEVEL)
            return found

        return get

    @property
    def environment_id(self) -> int:
        return self.data.environment_id

    def flag_object(self, result: Mapping[str, Any], *, identity: bool) -> dict[str, Any]:
        """The wire shape of one evaluated flag (protocol notes §1.5 / §1.6)."""
        metadata = result["metadata"]
        flag: dict[str, Any] = {
            "id": metadata["state_id"],
            "feature": self.data.features[metadata["id"]],
            "feature_state_value": result["value"],
            "environment": self.data.environment_id,
            "identity": metadata.get("identity_id") if identity else None,
            "feature_segment": self.data.feature_segments.get(metadata["state_id"]),
            "enabled": result["enabled"],
        }
        if identity:
            flag["variant"] = result["variant"]
        if self.hide_sensitive_data:
            flag = _redacted(flag)
        return flag

    def identity_flags_json(
        self, results: Mapping[str, Any], *, is_server: bool
    ) -> tuple[tuple[bytes, ...], int]:
        """The visible flags of an identity's evaluation: the bytes of
        ``orjson.dumps(self.flag_object(result, identity=True))`` for each, memoised, and how
        many of those bytes are not memoised (see vexil.sdk.results).

        A flag object is a function of the winning state and of the value, ``enabled`` and
        variant the engine gave it, and a state of the snapshot only ever gives its own value or
        one of its variants: a handful of entries per state. Overrides read per request (states
        the snapshot does not hold) are serialised each time. One loop with no call per flag:
        this runs for every identity request, 100 flags each in the benchmark."""
        memo = self.identity_flags
        hidden = () if is_server else self.server_only_features
        hide_disabled = self.hide_disabled_flags
        encoded_flags = []
        unshared = 0
        for name, result in results.items():
            enabled = result["enabled"]
            if (hide_disabled and not enabled) or name in hidden:
                continue
            metadata = result["metadata"]
            value = result["value"]
            # type(value): 1 == True, but their bytes differ
            key = (
                metadata["state_id"],
                metadata["id"],
                type(value),
                value,
                enabled,
                result["variant"],
            )
            encoded = memo.get(key)
            if encoded is None:
                encoded = orjson.dumps(self.flag_object(result, identity=True))
                if key[0] in self.data.shared_state_ids and len(memo) < _MAX_MEMOISED_FLAGS:
                    memo[key] = encoded
                else:
                    unshared += len(encoded)
            encoded_flags.append(encoded)
        return tuple(encoded_flags), unshared

    def visible(self, name: str, enabled: bool, *, is_server: bool) -> bool:
        if not is_server and name in self.server_only_features:
            return False
        return enabled or not self.hide_disabled_flags


def _redacted(flag: dict[str, Any]) -> dict[str, Any]:
    feature = {**flag["feature"], **dict.fromkeys(_SENSITIVE_FEATURE_FIELDS)}
    return {**flag, **dict.fromkeys(_SENSITIVE_FLAG_FIELDS), "feature": feature}


def build_snapshot(environment_id: int) -> EnvironmentSnapshot:
    data = build_environment_data(environment_id)
    document = data.document
    compiled = compile_environment(environment_context(document))
    document_body = orjson.dumps(document)
    snapshot = EnvironmentSnapshot(
        revision=data.revision,
        data=data,
        compiled=compiled,
        hide_disabled_flags=hides_disabled_flags(document),
        hide_sensitive_data=document["hide_sensitive_data"],
        allow_client_traits=document["allow_client_traits"],
        server_only_features=server_key_only_features(document),
        updated_at_header=repr(data.updated_at.timestamp()),
        last_modified=format_datetime(data.updated_at.replace(microsecond=0), usegmt=True),
        updated_at_seconds=int(data.updated_at.timestamp()),
        etag='"' + hashlib.blake2b(document_body, digest_size=16).hexdigest() + '"',
        document_body=document_body,
        flags_body={},
        flag_bodies={},
        feature_ids={s["feature"]["name"]: s["feature"]["id"] for s in document["feature_states"]},
        identity_flags={},
    )
    _precompute_environment_flags(snapshot)
    return snapshot


def _precompute_environment_flags(snapshot: EnvironmentSnapshot) -> None:
    """``/flags/``: environment defaults only (no segments, no split: the control value)."""
    defaults = snapshot.compiled.evaluate_defaults()["flags"]
    for is_server in (False, True):
        flags = []
        for name, result in defaults.items():
            if not snapshot.visible(name, result["enabled"], is_server=is_server):
                continue
            flag = snapshot.flag_object(result, identity=False)
            flags.append(flag)
            snapshot.flag_bodies[(is_server, name)] = orjson.dumps(flag)
        snapshot.flags_body[is_server] = orjson.dumps(flags)
