"""``vexil.sdk.reads``: the identify read that runs on the event loop must read exactly what
the ORM-side selector reads, on each database, and must never write."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from django.db import connection

from tests.sdk.conftest import (
    OVERRIDE_VALUES,
    STORED_TRAIT_TYPES,
    SDKClient,
    store_every_trait_type_and_an_override,
)
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.identities.models import Identity
from vexil.identities.selectors import IdentityEvaluationState, identity_evaluation_state
from vexil.sdk.reads import PostgresReader, SQLiteReader


def _read(sdk: SDKClient, environment_id: int, identifier: str) -> IdentityEvaluationState | None:
    return sdk.loop.run_until_complete(sdk.app.context.reader.read(environment_id, identifier))


def test_reader__one_per_database__reads_on_the_loop(sdk: SDKClient) -> None:
    expected = {"sqlite": SQLiteReader, "postgresql": PostgresReader}[connection.vendor]
    assert type(sdk.app.context.reader) is expected


@pytest.mark.parametrize("override_value", OVERRIDE_VALUES, ids=repr)
def test_reader__traits_and_overrides__same_as_the_selector(
    sdk: SDKClient,
    environment: Environment,
    identity: Identity,
    feature: Feature,
    actor: Actor,
    override_value: object,
) -> None:
    # Given: every trait type, and an override of every value type
    store_every_trait_type_and_an_override(environment, identity, feature, actor, override_value)
    # When
    state = _read(sdk, environment.pk, identity.identifier)
    # Then
    expected = identity_evaluation_state(environment.pk, identity.identifier)
    assert state is not None
    assert expected is not None
    assert state == expected
    assert [type(t.value) for t in state.traits] == STORED_TRAIT_TYPES
    assert type(state.overrides[0].value) is type(expected.overrides[0].value)


def test_reader__unknown_identity_and_other_environment__none(
    sdk: SDKClient, environment: Environment, other_environment: Environment, identity: Identity
) -> None:
    assert _read(sdk, environment.pk, "nobody") is None
    assert _read(sdk, other_environment.pk, identity.identifier) is None


def test_reader__sqlite_connection__refuses_writes(
    sdk: SDKClient, environment: Environment, identity: Identity
) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("the SQLite reader only")
    reader = sdk.app.context.reader
    assert isinstance(reader, SQLiteReader)
    _read(sdk, environment.pk, identity.identifier)  # opens the connection
    raw = reader._wrapper.connection  # type: ignore[union-attr]
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        raw.execute("DELETE FROM identities_identity")
    assert Identity.objects.filter(pk=identity.pk).exists()


def test_reader__after_shutdown__reopens_in_a_new_client(
    environment: Environment, identity: Identity, sdk: SDKClient
) -> None:
    # A server process reads again after its reader is closed and replaced (reload).
    assert _read(sdk, environment.pk, identity.identifier) is not None
    sdk.loop.run_until_complete(sdk.app.context.reader.close())
    assert _read(sdk, environment.pk, identity.identifier) is not None


@pytest.mark.parametrize("prepare", [True, False])
def test_reader__postgres__prepares_the_read_unless_told_not_to(
    environment: Environment, identity: Identity, prepare: bool, transactional_db: None
) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the PostgreSQL reader only")
    reader = PostgresReader("default", prepare=prepare)
    loop = asyncio.new_event_loop()

    async def read_then_count() -> int:
        await reader.read(environment.pk, identity.identifier)
        pool = reader._pool
        async with pool.connection() as pooled:
            cursor = await pooled.execute("SELECT count(*) FROM pg_prepared_statements")
            row = await cursor.fetchone()
        await reader.close()
        return int(row[0])

    try:
        prepared = loop.run_until_complete(read_then_count())
    finally:
        loop.close()
    assert (prepared > 0) is prepare
