"""The identity response is assembled from precomputed bytes (``EnvironmentSnapshot.
identity_flag_json``); it must be exactly what serialising the flag objects would give."""

from __future__ import annotations

import io
from typing import Any

import orjson
import pytest
from django.core.management import call_command

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_update
from vexil.identities.identify import identity_identify
from vexil.identities.models import Identity
from vexil.sdk import identify
from vexil.sdk.identify import IdentifyRequest
from vexil.sdk.snapshot import build_snapshot

pytestmark = pytest.mark.django_db


def _expected(snapshot: Any, request: IdentifyRequest, outcome: Any, *, is_server: bool) -> bytes:
    """The response body as the plain dict-then-serialise path builds it."""
    results = identify.evaluate_identity(
        snapshot.compiled,
        snapshot.data,
        identifier=request.identifier,
        identity_id=outcome.identity_id,
        traits=outcome.trait_values,
        overrides=outcome.overrides,
    )
    flags = [
        snapshot.flag_object(result, identity=True)
        for name, result in results.items()
        if snapshot.visible(name, result["enabled"], is_server=is_server)
    ]
    traits = (
        []
        if snapshot.hide_sensitive_data
        else [
            {"id": t.id, "trait_key": t.key, "trait_value": t.value, "transient": t.transient}
            for t in outcome.traits
        ]
    )
    return orjson.dumps({"identifier": request.identifier, "flags": flags, "traits": traits})


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"hide_sensitive_data": True},
        {"use_identity_overrides_in_local_eval": False, "hide_disabled_flags": True},
    ],
)
def test_identity_response__assembled_bytes__equal_serialised_flag_objects(
    changes: dict[str, Any],
) -> None:
    # Given: seed-demo's environments (multivariate features, segment overrides, identities
    # with identity overrides), with the environment settings that change the flag objects
    call_command("seed_demo", features=30, segments=10, identities=40, stdout=io.StringIO())
    environment = Environment.objects.order_by("id").first()
    assert environment is not None
    if changes:
        environment_update(environment=environment, actor=Actor(api_key_name="test"), **changes)
    snapshot = build_snapshot(environment.id)
    identifiers = list(
        Identity.objects.filter(environment=environment).values_list("identifier", flat=True)
    )
    with_overrides = 0
    for identifier in [*identifiers, "new-identity"]:
        request = IdentifyRequest(identifier, False, [], False)
        outcome = identity_identify(
            environment_id=environment.id,
            identifier=identifier,
            traits=[],
            transient=False,
            persist_traits=True,
        )
        with_overrides += bool(outcome.overrides)
        for is_server in (False, True):
            # When
            response = identify.respond(snapshot, outcome, request, is_server=is_server)
            # Then
            assert response.status == 200
            assert response.body == _expected(snapshot, request, outcome, is_server=is_server)
    assert with_overrides > 0
