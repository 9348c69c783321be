"""The import's built-in check: Flagsmith and Vexil serve the same flags.

For every imported environment, with its client key: the environment's ``/api/v1/flags/``, the
flags of a sample of imported identities (``GET identities/?identifier=``: both sides read the
stored traits and overrides; the identities exist, so nothing is created), and of random
transient identities with traits drawn from the segments' conditions (``POST identities/`` with
``"transient": true``, which stores nothing on either side). Vexil's side is computed by
``vexil.evaluation.explain``, the preview that gives exactly what an SDK receives.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterable, Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from vexil.evaluation.explain import (
    CompiledDocument,
    FlagPreview,
    compiled_document,
    evaluation_preview,
    hides_disabled_flags,
    server_key_only_features,
)
from vexil.identities.identify import TraitInput
from vexil.importer.report import Progress
from vexil.importer.run import ImportedEnvironment
from vexil.importer.source import FlagsmithSource, SourceShapeError

MAX_DETAILS = 20
Flags = dict[str, tuple[bool, Any]]

_NUMERIC = {
    "GREATER_THAN",
    "GREATER_THAN_INCLUSIVE",
    "LESS_THAN",
    "LESS_THAN_INCLUSIVE",
    "EQUAL",
    "NOT_EQUAL",
}


def verify(
    source: FlagsmithSource,
    environments: Sequence[ImportedEnvironment],
    *,
    sample: int,
    transient: int,
    seed: int,
    progress: Progress,
) -> dict[str, Any]:
    rng = random.Random(seed)
    result: dict[str, Any] = {
        "environments": 0,
        "identities": 0,
        "transient": 0,
        "mismatches": 0,
        "details": [],
    }

    def compare(where: str, flagsmith: Flags, vexil: Flags) -> None:
        for name in sorted(set(flagsmith) | set(vexil)):
            theirs, ours = flagsmith.get(name), vexil.get(name)
            if theirs != ours:
                result["mismatches"] += 1
                if len(result["details"]) < MAX_DETAILS:
                    result["details"].append(
                        f"{where}, {name}: Flagsmith {_shown(theirs)}, Vexil {_shown(ours)}"
                    )

    for environment in environments:
        compiled = compiled_document(environment.environment_id)
        key = environment.client_key
        compare(
            f"{environment.name} flags",
            _flags(source.sdk("flags/", key)),
            _environment_flags(compiled),
        )
        result["environments"] += 1
        identifiers = rng.sample(environment.identifiers, min(sample, len(environment.identifiers)))
        for done, identifier in enumerate(identifiers, 1):
            answer = source.sdk(f"identities/?{_query(identifier)}", key)
            compare(
                f"{environment.name} identity {identifier!r}",
                _flags(_identity_flags(answer)),
                _preview_flags(compiled, environment, identifier, []),
            )
            result["identities"] += 1
            progress.update(f"verifying identities of {environment.name}", done, len(identifiers))
        pools = trait_pools(environment.document)
        for done in range(1, transient + 1):
            identifier = f"vexil-verify-{uuid.UUID(int=rng.getrandbits(128)).hex}"
            traits = random_traits(pools, rng)
            body = {
                "identifier": identifier,
                "traits": [{"trait_key": k, "trait_value": v} for k, v in traits.items()],
                "transient": True,
            }
            compare(
                f"{environment.name} transient identity with traits {traits}",
                _flags(_identity_flags(source.sdk("identities/", key, body))),
                _preview_flags(compiled, environment, identifier, list(traits.items())),
            )
            result["transient"] += 1
            progress.update(
                f"verifying transient identities of {environment.name}", done, transient
            )
    return result


def _query(identifier: str) -> str:
    return urlencode({"identifier": identifier})


def _shown(flag: tuple[bool, Any] | None) -> str:
    if flag is None:
        return "absent"
    enabled, value = flag
    return f"{'enabled' if enabled else 'disabled'} {value!r}"


def _identity_flags(answer: Any) -> Any:
    if not isinstance(answer, dict) or not isinstance(answer.get("flags"), list):
        raise SourceShapeError(f"An identities/ answer has no flags list: {answer!r:.200}")
    return answer["flags"]


def _flags(answer: Any) -> Flags:
    if not isinstance(answer, list):
        raise SourceShapeError(f"A flags list is not a list: {answer!r:.200}")
    flags: Flags = {}
    for flag in answer:
        try:
            flags[flag["feature"]["name"]] = (bool(flag["enabled"]), flag["feature_state_value"])
        except (KeyError, TypeError):
            raise SourceShapeError(f"A flag in an unknown shape: {flag!r:.200}") from None
    return flags


def _environment_flags(compiled: CompiledDocument) -> Flags:
    """``/api/v1/flags/`` for a client key: defaults, less hidden and server-side-only ones."""
    document = compiled.data.document
    hide_disabled = hides_disabled_flags(document)
    server_only = server_key_only_features(document)
    return {
        name: (flag["enabled"], flag["value"])
        for name, flag in compiled.compiled.evaluate_defaults()["flags"].items()
        if name not in server_only and (flag["enabled"] or not hide_disabled)
    }


def _preview_flags(
    compiled: CompiledDocument,
    environment: ImportedEnvironment,
    identifier: str,
    traits: Sequence[tuple[str, Any]],
) -> Flags:
    if not compiled.data.document["allow_client_traits"]:
        traits = []  # a client key's traits are dropped, as the SDK endpoint drops them
    preview = evaluation_preview(
        environment_id=environment.environment_id,
        identifier=identifier,
        traits=[TraitInput(k, v) for k, v in traits],
        source=compiled,
    )
    return _visible(preview.flags)


def _visible(flags: Iterable[FlagPreview]) -> Flags:
    return {
        f.feature_name: (f.enabled, f.value)
        for f in flags
        if not f.hidden and not f.server_key_only
    }


# --- random traits from the segments' conditions -------------------------------------------------
def trait_pools(document: Mapping[str, Any]) -> dict[str, list[Any]]:
    """For each trait a segment condition reads, values around the thresholds it tests."""
    pools: dict[str, list[Any]] = {}
    for segment in document.get("project", {}).get("segments", []):
        for condition in _conditions(segment.get("rules") or []):
            prop = condition.get("property_") or condition.get("property")
            if not prop or str(prop).startswith("$."):
                continue
            pools.setdefault(prop, []).extend(_candidates(condition))
    return pools


def _conditions(rules: Iterable[Mapping[str, Any]]) -> Iterable[Mapping[str, Any]]:
    for rule in rules:
        yield from rule.get("conditions") or []
        yield from _conditions(rule.get("rules") or [])


def _candidates(condition: Mapping[str, Any]) -> list[Any]:
    operator = condition.get("operator")
    value = str(condition.get("value") or "")
    if operator == "IN":
        items = [v.strip().strip('"') for v in value.strip("[]").split(",")]
        return [*items, "not-in-the-list"]
    if operator == "MODULO":
        return list(range(0, 20))
    if value.endswith(":semver"):
        version = value[: -len(":semver")]
        return [version, "0.0.1", "99.0.0", f"{version}-beta"]
    if value in ("true", "false", "True", "False"):
        return [True, False, value]
    try:
        number = int(value)
    except ValueError:
        try:
            real = float(value)
        except ValueError:
            return [value, f"x{value}x", "other"]
        return [real, real + 0.5, real - 0.5]
    if operator in _NUMERIC:
        return [number - 1, number, number + 1, str(number)]
    return [number, str(number)]


def random_traits(pools: Mapping[str, Sequence[Any]], rng: random.Random) -> dict[str, Any]:
    """A random subset of the traits, each with one of its candidate values."""
    return {
        key: rng.choice(values) for key, values in pools.items() if values and rng.random() < 0.7
    }
