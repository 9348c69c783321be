"""Plain-data rows of every environment and server-side key, for the SDK layer's key index."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass

from django.db import connection

from vexil.environments.models import SERVER_KEY_PREFIX, Environment, EnvironmentAPIKey


@dataclass(frozen=True, slots=True)
class EnvironmentRow:
    id: int
    client_key: str
    revision: int
    serving: bool  # False when the organisation has stop_serving_flags
    persist_traits: bool  # the organisation's persist_trait_data
    updated_at: float = 0.0  # epoch seconds of the environment document's updated_at


@dataclass(frozen=True, slots=True)
class ServerKeyRow:
    prefix: str
    digest: str
    environment_id: int
    active: bool
    expires_at: float | None  # epoch seconds

    def accepts(self, plaintext: str, now: float) -> bool:
        if not self.active or (self.expires_at is not None and self.expires_at <= now):
            return False
        return hmac.compare_digest(self.digest, EnvironmentAPIKey.digest_of(plaintext))


def server_key_prefix(plaintext: str) -> str | None:
    if not plaintext.startswith(SERVER_KEY_PREFIX):
        return None
    return EnvironmentAPIKey.prefix_of(plaintext)


class DatabaseKeyLoader:
    """Two queries, whatever the number of environments and keys."""

    def reset(self) -> None:
        connection.close()

    def environments(self) -> Iterator[EnvironmentRow]:
        rows = Environment.objects.values_list(
            "id",
            "api_key",
            "revision",
            "project__organisation__stop_serving_flags",
            "project__organisation__persist_trait_data",
            "updated_at",
        )
        for id_, key, revision, stopped, persist, updated_at in rows.iterator():
            yield EnvironmentRow(id_, key, revision, not stopped, persist, updated_at.timestamp())

    def server_keys(self) -> Iterator[ServerKeyRow]:
        rows = EnvironmentAPIKey.objects.values_list(
            "prefix", "digest", "environment_id", "active", "expires_at"
        )
        for prefix, digest, environment_id, active, expires_at in rows.iterator():
            expiry = expires_at.timestamp() if expires_at else None
            yield ServerKeyRow(prefix, digest, environment_id, active, expiry)
