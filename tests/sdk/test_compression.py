"""gzip on the SDK endpoints with ``ENABLE_GZIP_COMPRESSION`` (``vexil.sdk.compression``)."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest

from tests.sdk.conftest import SDKClient, _not_found
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.features.models import Feature
from vexil.features.services import feature_create
from vexil.projects.models import Project
from vexil.sdk.app import create_application
from vexil.sdk.compression import accepts_gzip
from vexil.sdk.http import Request

FLAGS = "/api/v1/flags/"
DOCUMENT = "/api/v1/environment-document/"
IDENTITIES = "/api/v1/identities/"
GZIP = {"Accept-Encoding": "gzip, deflate"}


@pytest.fixture
def sdk_gzip(transactional_db: None) -> Iterator[SDKClient]:
    client = SDKClient(create_application(_not_found, interval=3600, threads=2, gzip=True))
    yield client
    client.close()


@pytest.fixture
def features(project: Project, environment: Environment, actor: Actor) -> list[Feature]:
    """Enough flags for bodies above the 200-byte threshold."""
    return [
        feature_create(project=project, name=f"feature_{index}", actor=actor) for index in range(5)
    ]


@pytest.mark.usefixtures("features")
@pytest.mark.parametrize("path", [FLAGS, f"{FLAGS}?feature=feature_1"])
def test_gzip__flags_accepted__compressed_same_json(
    sdk_gzip: SDKClient, sdk: SDKClient, environment: Environment, path: str
) -> None:
    path, _, query = path.partition("?")
    # When
    plain = sdk.get(path, key=environment.api_key, query=query)
    compressed = sdk_gzip.get(path, key=environment.api_key, query=query, headers=GZIP)
    # Then
    assert compressed.status == 200
    if len(plain.body) >= 200:
        assert compressed.headers["content-encoding"] == "gzip"
        assert compressed.headers["vary"] == "X-Environment-Key, Origin, Accept-Encoding"
        assert gzip.decompress(compressed.body) == plain.body
        assert int(compressed.headers["content-length"]) == len(compressed.body)
    else:  # a single flag object is under the threshold: sent as it is
        assert "content-encoding" not in compressed.headers
        assert compressed.body == plain.body


@pytest.mark.usefixtures("features")
def test_gzip__not_accepted_or_not_enabled__plain(
    sdk_gzip: SDKClient, sdk: SDKClient, environment: Environment
) -> None:
    not_accepted = sdk_gzip.get(FLAGS, key=environment.api_key)
    refused = sdk_gzip.get(FLAGS, key=environment.api_key, headers={"Accept-Encoding": "gzip;q=0"})
    disabled = sdk.get(FLAGS, key=environment.api_key, headers=GZIP)
    for reply in (not_accepted, refused, disabled):
        assert "content-encoding" not in reply.headers
        assert reply.json()
    assert not_accepted.headers["vary"] == "X-Environment-Key, Origin, Accept-Encoding"


@pytest.mark.usefixtures("features")
def test_gzip__document__weak_etag_still_revalidates(
    sdk_gzip: SDKClient, environment: Environment, server_key: str
) -> None:
    # Given
    first = sdk_gzip.get(DOCUMENT, key=server_key, headers=GZIP)
    assert first.headers["content-encoding"] == "gzip"
    etag = first.headers["etag"]
    assert etag.startswith('W/"')
    # When: the client sends back the tag it got
    again = sdk_gzip.get(DOCUMENT, key=server_key, headers={**GZIP, "If-None-Match": etag})
    # Then
    assert again.status == 304
    assert again.body == b""


@pytest.mark.usefixtures("features")
def test_gzip__identity__compressed_per_response(
    sdk_gzip: SDKClient, environment: Environment
) -> None:
    body = {"identifier": "bob", "traits": [{"trait_key": "plan", "trait_value": "pro"}]}
    reply = sdk_gzip.post(IDENTITIES, key=environment.api_key, json=body, headers=GZIP)
    assert reply.headers["content-encoding"] == "gzip"
    identity = gzip.decompress(reply.body)
    assert b'"identifier":"bob"' in identity
    assert b'"trait_value":"pro"' in identity


@pytest.mark.parametrize(
    ("header", "accepted"),
    [
        ("gzip", True),
        ("deflate, gzip;q=0.5", True),
        ("br, *", True),
        ("GZIP", True),
        ("gzip;q=0", False),
        ("gzip;q=nonsense", False),
        ("deflate, br", False),
        ("", False),
    ],
)
def test_accepts_gzip(header: str, accepted: bool) -> None:
    request = Request("GET", FLAGS, {"accept-encoding": header}, b"")
    assert accepts_gzip(request) is accepted
