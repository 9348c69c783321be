"""``/identities/`` and the legacy ``/traits/`` endpoints: parse, identify, evaluate, respond."""

from __future__ import annotations

import enum
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import Any

import orjson

from vexil.engine import FlagResult, regex_timeouts
from vexil.evaluation.evaluate import evaluate_identity
from vexil.identities.identify import (
    TOO_MANY_TRAITS_MESSAGE,
    IdentifyOutcome,
    TooManyTraitsError,
    TraitInput,
    TraitNotIntegerError,
    TraitOutput,
    WriteCancelledError,
    identify_without_writes,
    identity_identify,
    reads_stored,
    trait_increment,
    traits_bulk_set,
)
from vexil.identities.models import (
    IDENTIFIER_MAX_LENGTH,
    TRAIT_KEY_MAX_LENGTH,
    TRAIT_STRING_MAX_LENGTH,
    InvalidTraitValueError,
    TraitValue,
)
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Request, Response, error_response, json_response
from vexil.sdk.keys import KeyRefusedError, authenticate
from vexil.sdk.results import IdentityResults, identity_cache_key, request_cache_key
from vexil.sdk.snapshot import EnvironmentSnapshot

# Items of one request (traits of an identify call, items of traits/bulk/); docs/sdk.md, "Limits"
MAX_TRAITS_PER_REQUEST = 2_000
TOO_MANY_TRAITS = TOO_MANY_TRAITS_MESSAGE
INT32 = range(-(2**31), 2**31)
# PostgreSQL cannot store a NUL in text, SQLite can: refused on both, with DRF's words.
_OUT_OF_RANGE = "The result must fit in a 32-bit integer (-2147483648 to 2147483647)."
_NUL = "Null characters are not allowed."
_TOO_LONG = f"Value string is too long. Must be less than {TRAIT_STRING_MAX_LENGTH} character"


@dataclass(frozen=True, slots=True)
class IdentifyRequest:
    identifier: str
    generated: bool  # no identifier was given: fully transient (protocol notes §1.7, 1)
    traits: list[TraitInput]
    transient: bool
    feature: str | None = None
    use_stored: bool = True

    def without_traits(self) -> IdentifyRequest:
        return replace(self, traits=[])


class ValidationFailedError(Exception):
    def __init__(self, errors: dict[str, Any]) -> None:
        self.errors = errors


def invalid(errors: dict[str, Any]) -> Response:
    return json_response(400, {"detail": "Invalid input.", "code": "invalid", **errors})


# --- parsing -------------------------------------------------------------------------------
def parse_query(request: Request) -> IdentifyRequest | Response:
    identifier = request.query("identifier") or ""
    if not identifier:
        return invalid({"identifier": ["This field is required."]})
    if len(identifier) > IDENTIFIER_MAX_LENGTH:
        return invalid({"identifier": [_max_length(IDENTIFIER_MAX_LENGTH)]})
    if "\x00" in identifier:
        return invalid({"identifier": [_NUL]})
    transient = bool(request.query("transient"))
    return IdentifyRequest(
        identifier, False, [], transient, request.query("feature"), use_stored=not transient
    )


def parse_body(request: Request) -> IdentifyRequest | Response:
    try:
        body = request.json()
    except orjson.JSONDecodeError:
        return invalid({"non_field_errors": ["The body must be a JSON object."]})
    if not isinstance(body, dict):
        return invalid({"non_field_errors": ["The body must be a JSON object."]})
    try:
        traits = _traits(body.get("traits"))
        transient = _boolean(body.get("transient", False), "transient")
        identifier = _identifier(body.get("identifier"))
    except ValidationFailedError as failed:
        return invalid(failed.errors)
    if identifier is None:
        return IdentifyRequest(_generated_identifier(traits), True, traits, True)
    return IdentifyRequest(identifier, False, traits, transient)


def _identifier(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ValidationFailedError({"identifier": ["Not a valid string."]})
    if len(value) > IDENTIFIER_MAX_LENGTH:
        raise ValidationFailedError({"identifier": [_max_length(IDENTIFIER_MAX_LENGTH)]})
    if "\x00" in value:
        raise ValidationFailedError({"identifier": [_NUL]})
    return value


def _boolean(value: Any, name: str) -> bool:
    if not isinstance(value, bool):
        raise ValidationFailedError({name: ["Must be a valid boolean."]})
    return value


def _traits(value: Any) -> list[TraitInput]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ValidationFailedError({"traits": ['Expected a list of items but got type "dict".']})
    if len(value) > MAX_TRAITS_PER_REQUEST:
        raise ValidationFailedError({"traits": [_too_many_items()]})
    parsed: list[TraitInput] = []
    errors: list[dict[str, list[str]]] = []
    for item in value:
        trait, error = _trait(item)
        errors.append(error)
        if trait is not None:
            parsed.append(trait)
    if any(errors):
        raise ValidationFailedError({"traits": errors})
    keys = [trait.key for trait in parsed]
    if len(set(keys)) != len(keys):
        repeated = sorted({key for key in keys if keys.count(key) > 1})
        raise ValidationFailedError(
            {"traits": [f"Trait keys must be unique; repeated: {', '.join(repeated)}."]}
        )
    return parsed


def _trait(item: Any) -> tuple[TraitInput | None, dict[str, list[str]]]:
    if not isinstance(item, dict):
        return None, {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    key, value = item.get("trait_key"), item.get("trait_value")
    if not isinstance(key, str) or not key:
        return None, {"trait_key": ["This field is required and must be a non-empty string."]}
    if len(key) > TRAIT_KEY_MAX_LENGTH:
        return None, {"trait_key": [_max_length(TRAIT_KEY_MAX_LENGTH)]}
    if "\x00" in key:
        return None, {"trait_key": [_NUL]}
    transient = item.get("transient", False)
    if not isinstance(transient, bool):
        return None, {"transient": ["Must be a valid boolean."]}
    if isinstance(value, str) and len(value) > TRAIT_STRING_MAX_LENGTH:
        return None, {"trait_value": [_TOO_LONG]}
    if isinstance(value, str) and "\x00" in value:
        return None, {"trait_value": [_NUL]}
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT32:
        # Stored as its digits: the engine reads a string of digits as an integer anyway.
        value = str(value)
    if value is not None and not isinstance(value, str | int | float | bool):
        return None, {"trait_value": ["Must be a string, a number, a boolean or null."]}
    return TraitInput(key, value, transient), {}


def _too_many_items() -> str:
    return f"Ensure this list has no more than {MAX_TRAITS_PER_REQUEST} items."


def _max_length(limit: int) -> str:
    return f"Ensure this field has no more than {limit} characters."


def _generated_identifier(traits: list[TraitInput]) -> str:
    """Flagsmith's identifier for identifier-less requests: stable for the same trait set."""
    present = sorted((t for t in traits if t.value is not None), key=lambda t: t.key)
    if not present:
        return uuid.uuid4().hex
    joined = "".join(f"{t.key}{t.value}" for t in present)
    return hashlib.sha256(joined.encode()).hexdigest()


# --- identifying and responding --------------------------------------------------------------
async def identify(
    context: SDKContext, snapshot: EnvironmentSnapshot, request: IdentifyRequest, persist: bool
) -> IdentifyOutcome:
    """Read the identity on the loop; go to a worker thread only when something must be
    written (a new identity, changed traits)."""
    if request.generated:
        traits = [
            TraitOutput(None, t.key, t.value, True) for t in request.traits if t.value is not None
        ]
        return IdentifyOutcome(None, traits)
    read = reads_stored(transient=request.transient, use_stored=request.use_stored)
    state = await context.reader.read(snapshot.environment_id, request.identifier) if read else None
    outcome = identify_without_writes(
        state, request.traits, transient=request.transient, persist_traits=persist
    )
    if outcome is not None:
        return outcome
    written: IdentifyOutcome = await context.in_thread(
        partial(
            identity_identify,
            environment_id=snapshot.environment_id,
            identifier=request.identifier,
            traits=request.traits,
            transient=request.transient,
            persist_traits=persist,
            use_stored=request.use_stored,
        )
    )
    return written


def respond(
    snapshot: EnvironmentSnapshot,
    outcome: IdentifyOutcome,
    request: IdentifyRequest,
    *,
    is_server: bool,
    cache: IdentityResults | None = None,
) -> Response:
    if request.feature is not None:
        return _respond_feature(snapshot, outcome, request, is_server=is_server)
    traits = (
        []
        if snapshot.hide_sensitive_data
        else [
            {"id": t.id, "trait_key": t.key, "trait_value": t.value, "transient": t.transient}
            for t in outcome.traits
        ]
    )
    # The same bytes as orjson.dumps({"identifier", "flags": [flag_object...], "traits"}),
    # with each flag's bytes memoised in the snapshot and the whole list cached per identity.
    flags, unshared = _identity_flags(snapshot, outcome, request, is_server=is_server, cache=cache)
    traits_json = orjson.dumps(traits)
    if cache is not None and cache.enabled:
        key = _answer_key(snapshot, request, is_server=is_server)
        cache.put_answer(key, flags, traits_json, unshared)
    return _identity_body(request, flags, traits_json)


def _identity_body(request: IdentifyRequest, flags: tuple[bytes, ...], traits: bytes) -> Response:
    body = b'{"identifier":%s,"flags":[%s],"traits":%s}' % (
        orjson.dumps(request.identifier),
        b",".join(flags),
        traits,
    )
    return Response(200, body)


def respond_from_cache(
    snapshot: EnvironmentSnapshot,
    request: IdentifyRequest,
    *,
    is_server: bool,
    cache: IdentityResults,
) -> Response | None:
    """The answer given to the same request at the same revision, if this process kept it:
    what an identify call is served while the database cannot be read."""
    if request.feature is not None or request.generated:
        return None
    found = cache.get_answer(_answer_key(snapshot, request, is_server=is_server))
    return None if found is None else _identity_body(request, *found)


def _answer_key(
    snapshot: EnvironmentSnapshot, request: IdentifyRequest, *, is_server: bool
) -> bytes:
    return request_cache_key(
        snapshot.environment_id,
        snapshot.revision,
        is_server=is_server,
        identifier=request.identifier,
        transient=request.transient,
        traits=[(t.key, t.value, t.transient) for t in request.traits],
    )


def _identity_flags(
    snapshot: EnvironmentSnapshot,
    outcome: IdentifyOutcome,
    request: IdentifyRequest,
    *,
    is_server: bool,
    cache: IdentityResults | None,
) -> tuple[tuple[bytes, ...], int]:
    """The flags' bytes, and how many of them the snapshot does not share."""
    traits = outcome.trait_values
    key = None
    if cache is not None and cache.enabled:
        key = identity_cache_key(
            snapshot.environment_id,
            snapshot.revision,
            is_server=is_server,
            identifier=request.identifier,
            identity_id=outcome.identity_id,
            traits=traits,
            overrides=outcome.overrides,
        )
        found = cache.get(key)
        if found is not None:
            return found, 0
    timeouts = regex_timeouts()
    flags, unshared = snapshot.identity_flags_json(
        _evaluate(snapshot, outcome, request, traits), is_server=is_server
    )
    # A regex that ran out of time under load answered "no match": not a result to keep.
    if key is not None and cache is not None and regex_timeouts() == timeouts:
        cache.put(key, flags, unshared)
    return flags, unshared


def _respond_feature(
    snapshot: EnvironmentSnapshot,
    outcome: IdentifyOutcome,
    request: IdentifyRequest,
    *,
    is_server: bool,
) -> Response:
    results = _evaluate(snapshot, outcome, request, outcome.trait_values)
    flag_objects = [
        snapshot.flag_object(result, identity=True)
        for name, result in results.items()
        if snapshot.visible(name, result["enabled"], is_server=is_server)
    ]
    match = next((f for f in flag_objects if f["feature"]["name"] == request.feature), None)
    if match is None:
        return error_response(404, "Given feature not found", "not_found")
    return json_response(200, match)


def _evaluate(
    snapshot: EnvironmentSnapshot,
    outcome: IdentifyOutcome,
    request: IdentifyRequest,
    traits: dict[str, TraitValue],
) -> dict[str, FlagResult]:
    return evaluate_identity(
        snapshot.compiled,
        snapshot.data,
        identifier=request.identifier,
        identity_id=outcome.identity_id,
        traits=traits,
        overrides=outcome.overrides,
        hashing_id=outcome.hashing_id,
    )


# --- legacy traits endpoints ---------------------------------------------------------------
class TraitsOperation(enum.Enum):
    SET = "set"
    BULK = "bulk"
    INCREMENT = "increment"


_NOT_AUTHORISED = "Organisation is not authorised to store traits."
_CLIENT_KEY = "Setting traits not allowed with client key."


async def legacy_traits(
    context: SDKContext, request: Request, operation: TraitsOperation
) -> Response:
    """``POST traits/``, ``PUT traits/bulk/``, ``POST traits/increment-value/`` (§1.8)."""
    try:
        environment, is_server = await authenticate(context, request)
    except KeyRefusedError as refused:
        return refused.response
    snapshot = await context.snapshot(environment)
    if not environment.persist_traits:
        return error_response(403, _NOT_AUTHORISED, "permission_denied")
    if not is_server and not snapshot.allow_client_traits:
        return invalid({"non_field_errors": [_CLIENT_KEY]})
    try:
        body = request.json()
    except orjson.JSONDecodeError:
        return invalid({"non_field_errors": ["The body must be JSON."]})
    if operation is TraitsOperation.INCREMENT:
        return await _increment(context, snapshot, body)
    items = body if operation is TraitsOperation.BULK else [body]
    if not isinstance(items, list):
        return invalid({"non_field_errors": ["Expected a list of items."]})
    if len(items) > MAX_TRAITS_PER_REQUEST:
        return invalid({"non_field_errors": [_too_many_items()]})
    parsed = [_legacy_item(item) for item in items]
    errors = [error for _, error in parsed]
    if any(errors):
        return invalid({"non_field_errors": errors} if len(errors) > 1 else errors[0])
    gone = request.gone
    try:
        saved = await context.in_thread(
            _save_legacy,
            snapshot,
            [item for item, _ in parsed],
            gone.is_set if gone is not None else _never,
        )
    except TooManyTraitsError:
        return invalid({"non_field_errors": [TOO_MANY_TRAITS]})
    except WriteCancelledError:  # the client left: nothing was written, nobody to answer
        return error_response(499, "The client closed the request.", "client_closed_request")
    if operation is TraitsOperation.SET:
        return json_response(200, saved[0] if saved else body)
    return json_response(200, saved)


def _legacy_item(item: Any) -> tuple[tuple[str, TraitInput], dict[str, Any]]:
    placeholder = ("", TraitInput("", None))
    if not isinstance(item, dict):
        return placeholder, {"non_field_errors": ["Invalid data. Expected a dictionary."]}
    identity = item.get("identity")
    identifier = identity.get("identifier") if isinstance(identity, dict) else None
    try:
        identifier = _identifier(identifier)
    except ValidationFailedError as failed:
        return placeholder, {"identity": failed.errors}
    if identifier is None:
        return placeholder, {"identity": {"identifier": ["This field is required."]}}
    trait, error = _trait(
        {"trait_key": item.get("trait_key"), "trait_value": item.get("trait_value")}
    )
    if trait is None:
        return placeholder, error
    return (identifier, trait), {}


def _never() -> bool:
    return False


def _save_legacy(
    snapshot: EnvironmentSnapshot,
    items: list[tuple[str, TraitInput]],
    cancelled: Callable[[], bool] = _never,
) -> list[dict[str, Any]]:
    """All items in one batched write (``traits_bulk_set``), as if applied in order; stopped,
    with nothing written, when ``cancelled()`` turns true before the commit."""
    by_identity: dict[str, list[TraitInput]] = {}
    for identifier, trait in items:
        by_identity.setdefault(identifier, []).append(trait)
    traits_bulk_set(environment_id=snapshot.environment_id, traits=by_identity, cancelled=cancelled)
    return [
        {"identity": {"identifier": identifier}, "trait_key": trait.key, "trait_value": trait.value}
        for identifier, trait in items
        if trait.value is not None
    ]


async def _increment(context: SDKContext, snapshot: EnvironmentSnapshot, body: Any) -> Response:
    if not isinstance(body, dict):
        return invalid({"non_field_errors": ["The body must be a JSON object."]})
    key, identifier, by = body.get("trait_key"), body.get("identifier"), body.get("increment_by")
    errors: dict[str, list[str]] = {}
    if not isinstance(key, str) or not key or len(key) > TRAIT_KEY_MAX_LENGTH:
        errors["trait_key"] = ["A non-empty string of at most 200 characters is required."]
    elif "\x00" in key:
        errors["trait_key"] = [_NUL]
    if not isinstance(identifier, str) or not identifier or len(identifier) > IDENTIFIER_MAX_LENGTH:
        errors["identifier"] = ["A non-empty string of at most 2000 characters is required."]
    elif "\x00" in identifier:
        errors["identifier"] = [_NUL]
    if not isinstance(by, int) or isinstance(by, bool) or by not in INT32:
        errors["increment_by"] = ["A valid integer is required."]
    if errors:
        return invalid(errors)
    try:
        value = await context.in_thread(
            trait_increment, snapshot.environment_id, identifier, key, by
        )
    except TraitNotIntegerError:
        return invalid({"trait_key": ["This trait's value is not an integer."]})
    except TooManyTraitsError:
        return invalid({"non_field_errors": [TOO_MANY_TRAITS]})
    except InvalidTraitValueError:
        return invalid({"increment_by": [_OUT_OF_RANGE]})
    return json_response(200, {"trait_key": key, "trait_value": value, "identifier": identifier})
