"""The SDK endpoints, driven in-process through the real ASGI application.

Endpoint database work runs on the application's own thread pool, as in production, so these
tests need committed data (`transactional_db`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
import pytest

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create
from vexil.features.models import Feature
from vexil.features.services import identity_override_create
from vexil.identities.identify import TraitInput, identity_identify
from vexil.identities.models import Identity
from vexil.sdk.app import SDKApplication, create_application


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return orjson.loads(self.body)


async def _not_found(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 404, "headers": []})
    await send({"type": "http.response.body", "body": b"django"})


class SDKClient:
    """Requests through the application on one event loop, as a server process has."""

    def __init__(self, app: SDKApplication) -> None:
        self.app = app
        self.loop = asyncio.new_event_loop()

    def close(self) -> None:
        self.loop.run_until_complete(self.app.shutdown())
        self.loop.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        key: str | None = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
        query: str = "",
        leave: bool = False,
    ) -> Reply:
        raw_headers = [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if key is not None:
            raw_headers.append((b"x-environment-key", key.encode()))
        body = b"" if json is None else orjson.dumps(json)
        return self.loop.run_until_complete(
            self._call(method, path, query, raw_headers, body, leave=leave)
        )

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Reply:
        return self.request("POST", path, **kwargs)

    async def _call(
        self,
        method: str,
        path: str,
        query: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        *,
        leave: bool = False,
    ) -> Reply:
        """One request. The client stays until its answer is complete (a server's ``receive``
        then blocks, as granian's does), or with ``leave`` disconnects once its body is sent;
        a request left unanswered has status 0."""
        scope = {
            "type": "http",
            "method": method,
            "path": path,
            "query_string": query.encode(),
            "headers": headers,
        }
        sent: list[dict[str, Any]] = []
        delivered = False
        answered = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            if not leave:
                await answered.wait()
            return {"type": "http.disconnect"}

        async def send(message: Mapping[str, Any]) -> None:
            sent.append(dict(message))
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                answered.set()

        await self.app(scope, receive, send)
        if not sent:
            return Reply(0, {}, b"")
        start = sent[0]
        headers_out = {k.decode(): v.decode() for k, v in start["headers"]}
        return Reply(start["status"], headers_out, b"".join(m.get("body", b"") for m in sent[1:]))


IDENTITY_CACHE_BYTES = 8 * 1024 * 1024


@pytest.fixture
def sdk(transactional_db: None) -> Iterator[SDKClient]:
    # With the identity cache on, as in production, so every test also checks it stays coherent.
    app = create_application(
        _not_found, interval=3600, threads=2, identity_cache_bytes=IDENTITY_CACHE_BYTES
    )
    client = SDKClient(app)
    yield client
    client.close()


# An override of every value type, and every trait type (in the order stored)
OVERRIDE_VALUES: list[object] = ["text", 0, 42, True, False, None]
STORED_TRAIT_TYPES = [str, int, float, bool, bool, int]


def store_every_trait_type_and_an_override(
    environment: Environment,
    identity: Identity,
    feature: Feature,
    actor: Actor,
    override_value: object,
) -> None:
    """Given for the identity-read tests: traits of STORED_TRAIT_TYPES and one override."""
    identity_identify(
        environment_id=environment.pk,
        identifier=identity.identifier,
        traits=[
            TraitInput("s", "pro"),
            TraitInput("i", 7),
            TraitInput("f", 1.5),
            TraitInput("t", True),
            TraitInput("b", False),
            TraitInput("z", 0),
        ],
        transient=False,
        persist_traits=True,
    )
    identity_override_create(
        feature=feature,
        identity_id=identity.pk,
        environment=environment,
        actor=actor,
        enabled=True,
        value=override_value,  # type: ignore[arg-type]
    )


@pytest.fixture
def server_key(environment: Environment, actor: Actor) -> str:
    _, plaintext = environment_api_key_create(environment=environment, name="backend", actor=actor)
    return plaintext
