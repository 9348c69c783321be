"""The ID token check on its own: signature against the provider's published keys, asymmetric
algorithms only. The key set is served on loopback by a small HTTP server in the test (the
provider's ``jwks_uri``), so tokens can be signed here with keys a provider would not misuse."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.cache import cache
from joserfc import jwt
from joserfc.jwk import OctKey, RSAKey

from vexil.users import sso

ISSUER = "https://sso.acme.test/realms/acme"  # never fetched: only the key set is
CLIENT_ID = "vexil"
NONCE = "n" * 43


@pytest.fixture
def jwks_server() -> Iterator[dict[str, Any]]:
    """Serves ``served["keys"]`` at ``served["url"]``; counts the fetches."""
    served: dict[str, Any] = {"keys": {"keys": []}, "fetches": 0}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            served["fetches"] += 1
            body = json.dumps(served["keys"]).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    served["url"] = f"http://127.0.0.1:{server.server_address[1]}/keys"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield served
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def provider_keys(settings: Any, jwks_server: dict[str, Any]) -> dict[str, Any]:
    settings.OIDC_ISSUER = ISSUER
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS = ["127.0.0.0/8"]
    cache.delete(sso._cache_key("jwks"))
    rsa = RSAKey.generate_key(2048, parameters={"kid": "rsa-1", "use": "sig"})
    # A symmetric key in a published key set is a provider's mistake; it must still not be
    # a way in for a token signed with it.
    oct_key = OctKey.generate_key(256, parameters={"kid": "oct-1"})
    jwks_server["keys"] = {"keys": [rsa.as_dict(private=False), oct_key.as_dict(private=True)]}
    return {"rsa": rsa, "oct": oct_key, "server": jwks_server}


def _claims(**extra: Any) -> dict[str, Any]:
    now = int(time.time())
    return {
        "iss": ISSUER,
        "aud": CLIENT_ID,
        "sub": "42",
        "iat": now,
        "exp": now + 300,
        "nonce": NONCE,
        "email": "owner@example.com",
        "email_verified": True,
        **extra,
    }


def _metadata(keys: dict[str, Any], algorithms: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"issuer": ISSUER, "jwks_uri": keys["server"]["url"]}
    if algorithms is not None:
        metadata["id_token_signing_alg_values_supported"] = algorithms
    return metadata


def test_id_token__signed_by_the_provider__claims(provider_keys: dict[str, Any]) -> None:
    token = jwt.encode({"alg": "RS256", "kid": "rsa-1"}, _claims(), provider_keys["rsa"])

    claims = sso._verified_id_token_claims(_metadata(provider_keys, None), token, nonce=NONCE)

    assert (claims["sub"], claims["email"]) == ("42", "owner@example.com")


def test_id_token__signed_by_another_key_with_the_providers_kid__refused(
    provider_keys: dict[str, Any],
) -> None:
    forger = RSAKey.generate_key(2048, parameters={"kid": "rsa-1"})
    token = jwt.encode({"alg": "RS256", "kid": "rsa-1"}, _claims(), forger)

    with pytest.raises(sso.SsoError) as refused:
        sso._verified_id_token_claims(_metadata(provider_keys, ["RS256"]), token, nonce=NONCE)

    assert refused.value.code == "sso_bad_token"
    # the keys were fetched again once, in case the provider had rotated them
    assert provider_keys["server"]["fetches"] == 2


@pytest.mark.parametrize(
    "advertised",
    [["HS256"], ["none"], "HS256", 5, [{"alg": "RS256"}]],
    ids=["hs256-only", "none-only", "not-a-list", "a-number", "objects"],
)
def test_id_token__provider_advertises_no_asymmetric_algorithm__hmac_token_refused(
    provider_keys: dict[str, Any], advertised: Any
) -> None:
    # Given a token signed with HS256 under a key the key set holds
    token = jwt.encode({"alg": "HS256", "kid": "oct-1"}, _claims(), provider_keys["oct"])
    # When the provider's metadata offers nothing Vexil accepts; Then it is refused, never
    # checked with the library's default algorithms (which include HS256)
    with pytest.raises(sso.SsoError) as refused:
        sso._verified_id_token_claims(_metadata(provider_keys, advertised), token, nonce=NONCE)

    assert refused.value.code == "sso_bad_token"


def test_id_token__hmac_token_while_rs256_offered__refused(provider_keys: dict[str, Any]) -> None:
    token = jwt.encode({"alg": "HS256", "kid": "oct-1"}, _claims(), provider_keys["oct"])

    with pytest.raises(sso.SsoError) as refused:
        sso._verified_id_token_claims(
            _metadata(provider_keys, ["RS256", "HS256"]), token, nonce=NONCE
        )

    assert refused.value.code == "sso_bad_token"
