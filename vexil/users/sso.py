"""Single sign-on with OpenID Connect: the authorization code flow with PKCE.

:func:`sso_authorization_start` builds the provider's authorization URL (with ``state``,
``nonce`` and a PKCE challenge) and the values the browser's session keeps until the provider
sends it back; :func:`sso_authorization_finish` checks ``state``, exchanges the code (with the
PKCE verifier) for tokens, verifies the ID token's signature against the provider's published
keys and its claims (issuer, audience, expiry, nonce), and returns the Vexil user of the
**verified** e-mail address, creating one if the operator allows it.

The protocol is the libraries': authlib builds the authorization and token requests and the PKCE
challenge; joserfc (authlib's JOSE library) verifies the ID token. Their HTTP clients are not
used: authlib's open ``requests``/``httpx`` sessions of their own, which would bypass the address
checks of :mod:`vexil.common.outbound`, the one module that makes outbound requests. So the three
requests (discovery, key set, token endpoint, and userinfo when the ID token has no e-mail) are
made with ``outbound`` and their bodies handed to the libraries.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from authlib.common.security import generate_token
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from vexil.audit.services import Actor
from vexil.common import outbound
from vexil.invites.services import InviteRefusedError, seats_check
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.services import organisation_member_add
from vexil.users.account_audit import account_audit
from vexil.users.models import User

logger = logging.getLogger(__name__)

METADATA_CACHE_SECONDS = 3600
CLOCK_SKEW_SECONDS = 60
# Asymmetric signatures only: "none" and the HMAC family (keyed with the client secret) are
# refused, so a token cannot be forged by anyone who is not the provider.
SIGNING_ALGORITHMS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}
)
_RESPONSE_LIMIT = 256 * 1024


class SsoError(Exception):
    """A refused or failed sign-in; ``message`` is fit to show to the person signing in."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class SsoStart:
    """Where to send the browser, and what its session keeps until the provider sends it back."""

    url: str
    pending: dict[str, str]


def sso_is_configured() -> bool:
    return bool(settings.OIDC_ISSUER and settings.OIDC_CLIENT_ID)


def password_login_allowed() -> bool:
    """``PREVENT_EMAIL_PASSWORD`` (Flagsmith's name) turns e-mail and password sign-in off."""
    return not settings.PREVENT_EMAIL_PASSWORD


# --- Provider metadata and keys (cached) ------------------------------------------------------
def _cache_key(kind: str) -> str:
    digest = hashlib.sha256(settings.OIDC_ISSUER.encode()).hexdigest()[:16]
    return f"vexil:sso:{kind}:{digest}"


def _get_json(url: str, headers: Mapping[str, str] | None = None) -> dict[str, Any]:
    try:
        response = outbound.request(
            "GET",
            url,
            headers={"Accept": "application/json", **(headers or {})},
            max_response_bytes=_RESPONSE_LIMIT,
        )
    except outbound.OutboundError as exc:
        logger.warning("OIDC request to %s failed: %s", url, exc)
        raise SsoError("The identity provider could not be reached.", "sso_unreachable") from None
    return _json_body(response, url)


def _json_body(response: outbound.OutboundResponse, url: str) -> dict[str, Any]:
    try:
        body = None if response.truncated else json.loads(response.body)
    except ValueError:
        body = None
    if response.status != 200 or response.truncated or not isinstance(body, dict):
        logger.warning("OIDC request to %s answered %s: %.200r", url, response.status, body)
        raise SsoError("The identity provider gave an unexpected answer.", "sso_bad_response")
    return body


def provider_metadata() -> dict[str, Any]:
    """The issuer's discovery document (``/.well-known/openid-configuration``), cached."""
    key = _cache_key("metadata")
    metadata: dict[str, Any] | None = cache.get(key)
    if metadata is not None:
        return metadata
    url = settings.OIDC_ISSUER.rstrip("/") + "/.well-known/openid-configuration"
    metadata = _get_json(url)
    required = ("authorization_endpoint", "token_endpoint", "jwks_uri")
    if metadata.get("issuer") != settings.OIDC_ISSUER or not all(
        isinstance(metadata.get(name), str) for name in required
    ):
        logger.warning(
            "OIDC discovery at %s does not describe issuer %s", url, settings.OIDC_ISSUER
        )
        raise SsoError("The identity provider gave an unexpected answer.", "sso_bad_response")
    cache.set(key, metadata, METADATA_CACHE_SECONDS)
    return metadata


def _key_set(metadata: Mapping[str, Any], *, refresh: bool = False) -> KeySet:
    key = _cache_key("jwks")
    keys: dict[str, Any] | None = None if refresh else cache.get(key)
    if keys is None:
        keys = _get_json(metadata["jwks_uri"])
        cache.set(key, keys, METADATA_CACHE_SECONDS)
    try:
        return KeySet.import_key_set(keys)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError):
        raise SsoError(
            "The identity provider's keys are not readable.", "sso_bad_response"
        ) from None


# --- The flow -------------------------------------------------------------------------------
def sso_authorization_start(*, redirect_uri: str) -> SsoStart:
    """The authorization request for the provider, with fresh ``state``, ``nonce`` and PKCE."""
    metadata = provider_metadata()
    pending = {
        "state": generate_token(32),
        "nonce": generate_token(32),
        "verifier": generate_token(64),
        "redirect_uri": redirect_uri,
    }
    url = prepare_grant_uri(
        metadata["authorization_endpoint"],
        settings.OIDC_CLIENT_ID,
        "code",
        redirect_uri=redirect_uri,
        scope=" ".join(settings.OIDC_SCOPES),
        state=pending["state"],
        nonce=pending["nonce"],
        code_challenge=create_s256_code_challenge(pending["verifier"]),
        code_challenge_method="S256",
    )
    return SsoStart(url=url, pending=pending)


def sso_authorization_finish(*, pending: Mapping[str, str], params: Mapping[str, str]) -> User:
    """The user the provider's answer (the callback's query ``params``) signs in.

    ``pending`` is what :func:`sso_authorization_start` returned, taken from the session (and
    removed from it: a callback works once). Raises :class:`SsoError` for every refusal.
    """
    expected_state = pending.get("state", "")
    if not expected_state or not secrets.compare_digest(
        str(params.get("state", "")).encode(), expected_state.encode()
    ):
        raise SsoError("The sign-in could not be verified; please start again.", "sso_bad_state")
    if params.get("error"):
        raise SsoError(
            f"The identity provider refused the sign-in ({str(params['error'])[:80]}).",
            "sso_refused",
        )
    code = str(params.get("code", ""))
    if not code:
        raise SsoError("The identity provider sent no authorization code.", "sso_bad_response")
    metadata = provider_metadata()
    tokens = _exchange_code(metadata, code=code, pending=pending)
    claims = _verified_id_token_claims(metadata, str(tokens["id_token"]), nonce=pending["nonce"])
    email = _verified_email(metadata, claims, access_token=tokens.get("access_token"))
    return _user_for(email, claims)


def _exchange_code(
    metadata: Mapping[str, Any], *, code: str, pending: Mapping[str, str]
) -> dict[str, Any]:
    body = prepare_token_request(
        "authorization_code",
        code=code,
        redirect_uri=pending["redirect_uri"],
        code_verifier=pending["verifier"],
        client_id=settings.OIDC_CLIENT_ID,
    )
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    methods = metadata.get("token_endpoint_auth_methods_supported") or ["client_secret_basic"]
    if settings.OIDC_CLIENT_SECRET and "client_secret_basic" in methods:
        # RFC 6749 §2.3.1: each part form-encoded before the Basic encoding.
        client_id, secret = settings.OIDC_CLIENT_ID, settings.OIDC_CLIENT_SECRET
        pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}"
        headers["Authorization"] = "Basic " + base64.b64encode(pair.encode()).decode()
    elif settings.OIDC_CLIENT_SECRET:
        body += "&client_secret=" + quote(settings.OIDC_CLIENT_SECRET, safe="")
    url = metadata["token_endpoint"]
    try:
        response = outbound.post(
            url, body.encode(), headers=headers, max_response_bytes=_RESPONSE_LIMIT
        )
    except outbound.OutboundError as exc:
        logger.warning("OIDC token request to %s failed: %s", url, exc)
        raise SsoError("The identity provider could not be reached.", "sso_unreachable") from None
    tokens = _json_body(response, url)
    if not isinstance(tokens.get("id_token"), str):
        raise SsoError("The identity provider sent no ID token.", "sso_bad_response")
    return tokens


def _verified_id_token_claims(
    metadata: Mapping[str, Any], id_token: str, *, nonce: str
) -> dict[str, Any]:
    offered = metadata.get("id_token_signing_alg_values_supported") or ["RS256"]
    listed = offered if isinstance(offered, list) else []
    algorithms = [a for a in listed if isinstance(a, str) and a in SIGNING_ALGORITHMS]
    if not algorithms:
        # An empty list would let joserfc fall back to its own defaults, HS256 among them.
        logger.warning("OIDC provider offers no asymmetric ID token algorithm: %.200r", offered)
        raise SsoError("The identity provider's answer could not be verified.", "sso_bad_token")
    try:
        try:
            token = jwt.decode(id_token, _key_set(metadata), algorithms=algorithms)
        except (JoseError, ValueError):
            # The provider may have rotated its keys since they were cached: fetch them once.
            token = jwt.decode(id_token, _key_set(metadata, refresh=True), algorithms=algorithms)
        registry = jwt.JWTClaimsRegistry(
            leeway=CLOCK_SKEW_SECONDS,
            iss={"essential": True, "value": settings.OIDC_ISSUER},
            aud={"essential": True, "value": settings.OIDC_CLIENT_ID},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            nonce={"essential": True, "value": nonce},
        )
        registry.validate(token.claims)
    except (JoseError, ValueError, TypeError) as exc:
        logger.warning("OIDC ID token refused: %s", exc)
        raise SsoError(
            "The identity provider's answer could not be verified.", "sso_bad_token"
        ) from None
    claims = token.claims
    audience = claims["aud"]
    if (
        isinstance(audience, list)
        and len(audience) > 1
        and claims.get("azp") != settings.OIDC_CLIENT_ID
    ):
        raise SsoError("The identity provider's answer could not be verified.", "sso_bad_token")
    return claims


def _verified_email(
    metadata: Mapping[str, Any], claims: Mapping[str, Any], *, access_token: object
) -> str:
    source: Mapping[str, Any] = claims
    if (
        "email" not in claims
        and metadata.get("userinfo_endpoint")
        and isinstance(access_token, str)
    ):
        userinfo = _get_json(
            metadata["userinfo_endpoint"], headers={"Authorization": f"Bearer {access_token}"}
        )
        if userinfo.get("sub") == claims["sub"]:
            source = userinfo
    email = source.get("email")
    verified = source.get("email_verified")
    if not isinstance(email, str) or "@" not in email:
        raise SsoError("The identity provider did not tell your e-mail address.", "sso_no_email")
    # Some providers send the flag as a string; anything but true is "not verified".
    if verified is not True and str(verified).lower() != "true":
        raise SsoError(
            "Your e-mail address is not verified at the identity provider.", "sso_unverified_email"
        )
    email = User.objects.normalize_email(email).strip().lower()
    domain = email.rsplit("@", 1)[1]
    if settings.OIDC_ALLOWED_EMAIL_DOMAINS and domain not in settings.OIDC_ALLOWED_EMAIL_DOMAINS:
        raise SsoError(f"Addresses at {domain} may not sign in here.", "sso_domain_refused")
    return email


@transaction.atomic
def _user_for(email: str, claims: Mapping[str, Any]) -> User:
    user = User.objects.filter(email__iexact=email).first()
    if user is None:
        if not settings.OIDC_CREATE_USERS:
            raise SsoError(
                "There is no Vexil account for your e-mail address; "
                "ask an administrator to invite you.",
                "sso_no_account",
            )
        user = _user_create(email, claims)
    if not user.is_active:
        raise SsoError("This account is deactivated.", "sso_inactive")
    return user


def _user_create(email: str, claims: Mapping[str, Any]) -> User:
    """A new account for a first SSO sign-in: without a password (it signs in through SSO), a
    member of ``OIDC_NEW_USER_ORGANISATION`` with ``OIDC_NEW_USER_ROLE`` when that is set, and
    only when that organisation has a free seat (``MAX_SEATS_PER_ORGANISATION``), as on every
    other way in."""
    # Locked, like the invite paths: seats are counted, then taken.
    organisation = (
        Organisation.objects.select_for_update()
        .filter(pk=settings.OIDC_NEW_USER_ORGANISATION)
        .first()
    )
    if organisation is not None:
        try:
            seats_check(organisation_id=organisation.pk, adding=1)
        except InviteRefusedError:
            raise SsoError(
                f"{organisation.name} has no free seat for a new member; "
                "ask an administrator to make room or to invite you.",
                "no_free_seat",
            ) from None
    user = User.objects.create_user(
        email=email,
        password=None,
        first_name=str(claims.get("given_name") or "")[:150],
        last_name=str(claims.get("family_name") or "")[:150],
    )
    if organisation is not None:
        organisation_member_add(
            organisation=organisation,
            user=user,
            role=OrganisationRole(settings.OIDC_NEW_USER_ROLE),
            actor=Actor(user=user),
        )
    account_audit(user=user, log=f"Account {email} created by its first single sign-on")
    return user
