"""OFREP, the OpenFeature Remote Evaluation Protocol 0.3.0 (protocol notes §8), on the hot path.

``POST /ofrep/v1/evaluate/flags/{key}`` evaluates one flag, ``POST /ofrep/v1/evaluate/flags`` all
of them, from the same compiled snapshot as ``/api/v1/identities/`` (docs/realtime.md, "OFREP"):

* ``context.targetingKey`` is the identity's identifier and every other context attribute a
  transient trait: nothing is stored, and the identity's stored traits are not read (the result
  is a function of the context sent, as in local evaluation). The identity's own overrides apply.
  No targeting key: the environment's flags, as ``/api/v1/flags/`` serves them.
* Value mapping: an enabled flag reports its value, or ``true`` when it has none; a disabled flag
  reports reason ``DISABLED`` and ``false`` when it has no value, and no ``value`` (the code
  default, ADR-0006) when it has one. A string value that is a decimal number with a fraction
  (``"2.5"``) is reported as a JSON float, and one that is a JSON object or array as that object.
* The bulk answer advertises OFREP's change channel in ``eventStreams``
  (``vexil.sdk.ofrep_events``: one ``refetchEvaluation`` message per change of the environment).
* The bulk answer carries a strong ``ETag`` computed from what the evaluation depends on
  (environment revision, key kind, context), so a matching ``If-None-Match`` is answered 304
  without evaluating or reading anything.
"""

from __future__ import annotations

import hashlib
import math
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson

from vexil.engine import FlagResult
from vexil.evaluation.evaluate import evaluate_identity
from vexil.evaluation.keys import EnvironmentRow
from vexil.identities.identify import TraitInput, override_of
from vexil.identities.models import IDENTIFIER_MAX_LENGTH, TraitValue
from vexil.sdk import identify
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Request, Response
from vexil.sdk.ofrep_events import event_streams
from vexil.sdk.results import identity_cache_key
from vexil.sdk.snapshot import EnvironmentSnapshot

PREFIX = "/ofrep/v1/evaluate/flags"
STATIC, TARGETING_MATCH, SPLIT, DISABLED = "STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED"
_FLOAT = re.compile(r"-?(?:0|[1-9][0-9]*)\.[0-9]+(?:[eE][+-]?[0-9]+)?")
_MAX_MEMOISED_SNAPSHOTS = 1024
# The key may come in either header (beside X-Environment-Key, which every SDK answer varies on)
VARY = "Authorization, X-API-Key"


def route(path: str) -> str | None:
    """``"bulk"``, ``"flag"`` or None (not an OFREP evaluation path)."""
    if path in (PREFIX, PREFIX + "/"):
        return "bulk"
    if path.startswith(PREFIX + "/"):
        return "flag"
    return None


def flag_key(request: Request) -> str:
    """The flag key of a single-flag path (the server has already percent-decoded it)."""
    return request.path[len(PREFIX) + 1 :]


# --- errors --------------------------------------------------------------------------------
def failure(
    status: int, code: str, details: str, *, key: str | None = None, house_code: str = ""
) -> Response:
    """OFREP's error body (``key`` for a single flag), with the house ``detail``/``code``
    beside it so the answer also reads like every other Vexil error."""
    body: dict[str, Any] = {} if key is None else {"key": key}
    body.update(
        errorCode=code, errorDetails=details, detail=details, code=house_code or code.lower()
    )
    return Response(status, orjson.dumps(body))


def general_failure(request: Request, status: int, details: str, house_code: str) -> Response:
    """An error the SDK app answers for any route (405, 413, 500, 503) in OFREP's shape:
    ``GENERAL``, with the single flag's ``key`` when the path names one."""
    key = flag_key(request) if route(request.path) == "flag" else None
    return failure(status, "GENERAL", details, key=key, house_code=house_code)


class RefusedError(Exception):
    def __init__(self, response: Response) -> None:
        self.response = response


# --- authentication and rate limiting -------------------------------------------------------
def _presented_key(request: Request) -> str:
    authorization = request.header("authorization").strip()
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return (request.header("x-api-key") or request.header("x-environment-key")).strip()


async def _authenticate(
    context: SDKContext, request: Request, key: str | None
) -> tuple[EnvironmentRow, bool, str]:
    """The environment, whether the key is a server key, and the key; or RefusedError:
    401 without a key, 403 for a key that opens nothing."""
    presented = _presented_key(request)
    if not presented:
        details = "An environment key is required (Authorization: Bearer, X-API-Key)."
        response = failure(401, "GENERAL", details, key=key)
        raise RefusedError(response.header("www-authenticate", 'Bearer realm="ofrep"'))
    resolved = await context.resolve(presented)
    if resolved is None:
        raise RefusedError(failure(403, "GENERAL", "Invalid environment key.", key=key))
    if not resolved.environment.serving:
        details = "Organisation is disabled from serving flags."
        raise RefusedError(failure(403, "GENERAL", details, key=key))
    return resolved.environment, resolved.is_server, presented


_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimiter:
    """At most ``limit`` requests per ``period`` seconds per environment key in this process,
    counted in fixed windows. Only the event loop calls it, so it needs no lock."""

    def __init__(
        self, limit: int, period: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.period = period
        self.clock = clock
        self._windows: dict[str, list[int]] = {}

    @classmethod
    def parse(cls, rate: str) -> RateLimiter | None:
        """``"N/s"``, ``"N/min"``, ``"N/hour"``, ``"N/day"``; None for ``""`` (no limit)."""
        if not rate:
            return None
        count, _, unit = rate.partition("/")
        return cls(max(int(count), 1), _PERIODS[unit[0]])

    def wait(self, key: str, now: float | None = None) -> int:
        """0 if a request with ``key`` may go now, else whole seconds until it may (>= 1)."""
        now = self.clock() if now is None else now
        window = int(now // self.period)
        counted = self._windows.get(key)
        if counted is None or counted[0] != window:
            if len(self._windows) > 100_000:
                self._windows.clear()
            self._windows[key] = [window, 1]
            return 0
        counted[1] += 1
        return 0 if counted[1] <= self.limit else self._left(window, now)

    def _left(self, window: int, now: float) -> int:
        return max(1, math.ceil((window + 1) * self.period - now))


# --- the evaluation context ------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Subject:
    """Who is evaluated: an identifier (None: the environment's flags) and transient traits."""

    identifier: str | None
    traits: list[TraitInput]

    def fingerprint(self) -> list[Any]:
        return [self.identifier, [[t.key, t.value] for t in self.traits]]


def parse_subject(request: Request, key: str | None) -> Subject:
    """The request's context, or RefusedError with 400 (PARSE_ERROR, INVALID_CONTEXT)."""
    try:
        body = request.json()
    except orjson.JSONDecodeError:
        raise RefusedError(failure(400, "PARSE_ERROR", "The body is not JSON.", key=key)) from None
    if body is None:
        body = {}
    if not isinstance(body, dict):
        details = "The body must be a JSON object."
        raise RefusedError(failure(400, "PARSE_ERROR", details, key=key))
    context = body.get("context")
    if context is None:
        context = {}
    if not isinstance(context, dict):
        details = "context must be a JSON object."
        raise RefusedError(failure(400, "INVALID_CONTEXT", details, key=key))
    identifier = _targeting_key(context.get("targetingKey"), key)
    if identifier is None:
        return Subject(None, [])
    attributes = [
        {"trait_key": name, "trait_value": value, "transient": True}
        for name, value in context.items()
        if name != "targetingKey"
    ]
    try:
        traits = identify._traits(attributes)
    except identify.ValidationFailedError as failed:
        details = _trait_errors(attributes, failed.errors.get("traits"))
        raise RefusedError(failure(400, "INVALID_CONTEXT", details, key=key)) from None
    return Subject(identifier, traits)


def _targeting_key(value: Any, key: str | None) -> str | None:
    if value is None or value == "":
        return None
    problem = None
    if not isinstance(value, str):
        problem = "targetingKey must be a string."
    elif len(value) > IDENTIFIER_MAX_LENGTH:
        problem = f"targetingKey must have at most {IDENTIFIER_MAX_LENGTH} characters."
    elif "\x00" in value:
        problem = "targetingKey must not contain null characters."
    if problem is not None:
        raise RefusedError(failure(400, "INVALID_CONTEXT", problem, key=key))
    return value


def _trait_errors(attributes: list[dict[str, Any]], errors: Any) -> str:
    """One sentence naming the attributes refused and why (the identify parser's words)."""
    if isinstance(errors, list) and len(errors) == len(attributes):
        named = [
            f"{attributes[i]['trait_key']!r}: {' '.join(_messages(error))}"
            for i, error in enumerate(errors)
            if error
        ]
        if named:
            return "Context attributes refused: " + "; ".join(named)
    return "Context attributes refused: " + " ".join(_messages(errors))


def _messages(errors: Any) -> list[str]:
    if isinstance(errors, str):
        return [errors]
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list):
        return [m for value in errors for m in _messages(value)]
    return []


# --- evaluation ------------------------------------------------------------------------------
def reason_of(result: FlagResult) -> str:
    if not result["enabled"]:
        return DISABLED
    reason = result["reason"]
    if reason.startswith("SPLIT"):
        return SPLIT
    if reason.startswith("TARGETING_MATCH"):
        return TARGETING_MATCH  # a segment's or the identity's own override
    if result["variant"] is not None:
        return SPLIT  # the control share of a split
    return STATIC


def typed_value(value: Any) -> Any:
    """A stored value as OFREP reports it (module docstring, "Value mapping")."""
    if isinstance(value, str):
        if _FLOAT.fullmatch(value):
            number = float(value)
            if math.isfinite(number):
                return number
        elif value[:1] in ("{", "["):
            try:
                parsed = orjson.loads(value)
            except orjson.JSONDecodeError:
                return value
            if isinstance(parsed, dict | list):
                return parsed
    return value


def evaluation(name: str, result: FlagResult) -> dict[str, Any]:
    """One flag's ``evaluationSuccess``."""
    value = result["value"]
    variant = result["variant"]
    if not result["enabled"]:
        body: dict[str, Any] = {"key": name, "reason": DISABLED, "variant": "disabled"}
        if value is None:
            body["value"] = False
        return body
    return {
        "key": name,
        "reason": reason_of(result),
        "variant": "enabled" if variant is None else variant,
        "value": True if value is None else typed_value(value),
    }


def encoded_evaluations(
    snapshot: EnvironmentSnapshot, results: dict[str, FlagResult], *, is_server: bool
) -> tuple[bytes, ...]:
    """Each flag's ``evaluationSuccess`` bytes in the snapshot's feature order; ``b""`` for a
    flag this key may not see (as ``/identities/`` hides it)."""
    return tuple(
        orjson.dumps(evaluation(name, result))
        if snapshot.visible(name, result["enabled"], is_server=is_server)
        else b""
        for name, result in results.items()
    )


_positions: dict[tuple[int, int], dict[str, int]] = {}


def positions(snapshot: EnvironmentSnapshot) -> dict[str, int]:
    """Flag name -> its place in an evaluation of this snapshot (the document's order)."""
    memo_key = (snapshot.environment_id, snapshot.revision)
    found = _positions.get(memo_key)
    if found is None:
        if len(_positions) >= _MAX_MEMOISED_SNAPSHOTS:
            _positions.clear()
        found = _positions[memo_key] = {name: i for i, name in enumerate(snapshot.feature_ids)}
    return found


async def evaluate(
    context: SDKContext, snapshot: EnvironmentSnapshot, subject: Subject, *, is_server: bool
) -> tuple[bytes, ...]:
    """Every flag's evaluation bytes for ``subject`` (see ``encoded_evaluations``), from the
    process's identity results cache when the same evaluation was made at this revision."""
    cache = context.identity_results
    if subject.identifier is None:
        key = orjson.dumps(["ofrep", snapshot.environment_id, snapshot.revision, is_server])
        found = cache.get(key)
        if found is None:
            defaults = snapshot.compiled.evaluate_defaults()["flags"]
            found = encoded_evaluations(snapshot, defaults, is_server=is_server)
            cache.put(key, found, sum(len(b) for b in found))
        return found
    state = await context.reader.read(snapshot.environment_id, subject.identifier)
    identity_id = None if state is None else state.identity_id
    overrides = [] if state is None else [override_of(o) for o in state.overrides]
    traits: dict[str, TraitValue] = {t.key: t.value for t in subject.traits if t.value is not None}
    key = b"ofrep" + identity_cache_key(
        snapshot.environment_id,
        snapshot.revision,
        is_server=is_server,
        identifier=subject.identifier,
        identity_id=identity_id,
        traits=traits,
        overrides=overrides,
    )
    found = cache.get(key)
    if found is None:
        results = evaluate_identity(
            snapshot.compiled,
            snapshot.data,
            identifier=subject.identifier,
            identity_id=identity_id,
            traits=traits,
            overrides=overrides,
            hashing_id=None if state is None else state.hashing_id,
        )
        found = encoded_evaluations(snapshot, results, is_server=is_server)
        cache.put(key, found, sum(len(b) for b in found))
    return found


def etag(
    snapshot: EnvironmentSnapshot,
    subject: Subject,
    *,
    is_server: bool,
    identity_id: tuple[int, int | None] | None = None,
) -> str:
    """A strong ETag of a bulk answer: a digest of everything the evaluation depends on.

    Anything that changes an identity's overrides moves the environment's revision, and the
    stored traits are not read. ``identity_id``: the stored identity's ids (Vexil's, and the one
    kept from Flagsmith), for environments that hash splits by it (legacy; ``bulk`` reads them
    first)."""
    parts = [snapshot.environment_id, snapshot.revision, is_server, identity_id]
    digest = hashlib.blake2b(orjson.dumps([*parts, subject.fingerprint()]), digest_size=16)
    return '"' + digest.hexdigest() + '"'


def not_modified(request: Request, tag: str) -> bool:
    if_none_match = request.header("if-none-match")
    if not if_none_match:
        return False
    # A gzipped answer carried the tag as W/"..." (vexil.sdk.compression)
    tags = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return tag in tags or "*" in tags


# --- the endpoints ---------------------------------------------------------------------------
class OFREP:
    """The two OFREP endpoints of one process."""

    def __init__(self, rate_limiter: RateLimiter | None = None) -> None:
        self.rate_limiter = rate_limiter

    async def _open(
        self, context: SDKContext, request: Request, key: str | None
    ) -> tuple[EnvironmentSnapshot, bool, Subject]:
        environment, is_server, presented = await _authenticate(context, request, key)
        if self.rate_limiter is not None:
            wait = self.rate_limiter.wait(presented)
            if wait:
                details = f"Too many requests; retry in {wait} seconds."
                raise RefusedError(
                    failure(429, "GENERAL", details, key=key).header("retry-after", str(wait))
                )
        subject = parse_subject(request, key)
        snapshot = await context.snapshot(environment)
        if not is_server and not snapshot.allow_client_traits and subject.traits:
            subject = Subject(subject.identifier, [])
        return snapshot, is_server, subject

    async def flag(self, context: SDKContext, request: Request) -> Response:
        return (await self._flag(context, request)).header("vary", VARY)

    async def bulk(self, context: SDKContext, request: Request) -> Response:
        return (await self._bulk(context, request)).header("vary", VARY)

    async def _flag(self, context: SDKContext, request: Request) -> Response:
        key = flag_key(request)
        try:
            snapshot, is_server, subject = await self._open(context, request, key)
        except RefusedError as refused:
            return refused.response
        position = positions(snapshot).get(key)
        if position is None:
            return _flag_not_found(key)
        encoded = (await evaluate(context, snapshot, subject, is_server=is_server))[position]
        if not encoded:
            return _flag_not_found(key)
        return Response(200, encoded)

    async def _bulk(self, context: SDKContext, request: Request) -> Response:
        try:
            snapshot, is_server, subject = await self._open(context, request, None)
        except RefusedError as refused:
            return refused.response
        identity_id: tuple[int, int | None] | None = None
        if subject.identifier is not None and not _hashes_by_composite_key(snapshot):
            # The split depends on the stored identity's id: make it part of the tag.
            state = await context.reader.read(snapshot.environment_id, subject.identifier)
            identity_id = None if state is None else (state.identity_id, state.hashing_id)
        tag = etag(snapshot, subject, is_server=is_server, identity_id=identity_id)
        if not_modified(request, tag):
            return Response(304, b"", content_type=None).header("etag", tag)
        encoded = await evaluate(context, snapshot, subject, is_server=is_server)
        streams = orjson.dumps(event_streams(snapshot.data.document["api_key"]))
        body = b'{"flags":[%s],"eventStreams":%s}' % (b",".join(e for e in encoded if e), streams)
        return Response(200, body).header("etag", tag)


def _hashes_by_composite_key(snapshot: EnvironmentSnapshot) -> bool:
    return bool(snapshot.data.document["use_identity_composite_key_for_hashing"])


def _flag_not_found(key: str) -> Response:
    return failure(404, "FLAG_NOT_FOUND", f"No flag named {key!r} in this environment.", key=key)
