"""Hypothesis strategies for random EvaluationContexts (differential tests against Flagsmith).

The generated contexts stay inside what Flagsmith's reference engine accepts without raising:
the exclusions are listed in `REFERENCE_ENGINE_EXCLUSIONS` with the reason for each.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

from hypothesis import strategies as st

REFERENCE_ENGINE_EXCLUSIONS = {
    "invalid regex": "the reference raises re.error out of get_evaluation_result; Vexil does "
    "not match (tested in test_safe_regex.py)",
    "catastrophic regex": "the reference would hang on `(a+)+$`-like patterns; Vexil bounds them "
    "(tested in test_safe_regex.py)",
    "MODULO divisor 0": "the reference raises ZeroDivisionError; Vexil does not match",
    "null / missing priorities, weights, condition values": "the reference raises TypeError or "
    "KeyError on them; a Vexil document always carries them",
    "$.flags paths and top-level wildcards": "engine 11 adds flag dependencies and a `flags` key "
    "to the context; Vexil targets the v3.9.0 data, which has neither",
}

OPERATORS = [
    "EQUAL",
    "NOT_EQUAL",
    "GREATER_THAN",
    "GREATER_THAN_INCLUSIVE",
    "LESS_THAN",
    "LESS_THAN_INCLUSIVE",
    "CONTAINS",
    "NOT_CONTAINS",
    "REGEX",
    "PERCENTAGE_SPLIT",
    "MODULO",
    "IS_SET",
    "IS_NOT_SET",
    "IN",
]
TRAIT_NAMES = ["age", "plan", "version", "score", "beta", "$.identity.identifier", "$.weird path"]
JSONPATH_PROPERTIES = [
    "$.identity.identifier",
    "$.identity.key",
    "$.identity.traits.age",
    "$.identity.traits['plan']",
    "$.identity.traits.*",
    "$.identity",
    "$.environment.name",
    "$.environment.key",
    "$.features",
    "$..identifier",
    "$.weird path",
    "$.",
]
NUMERIC_LOOKING = ["007", "-1", "0", "1", "12", "1.50", "-0.5", "+5", "1e3", " 5", ".5", "1_000"]
SEMVER_LOOKING = ["1.2.3", "1.10.0", "2.0.0", "1.2.3-beta", "1.2.3-beta.2", "2.0.0+build", "1.2"]
WORDS = ["", "free", "pro", "Free", "a, b", "a,b", "True", "false", "foo bar", "é", "line\n"]
REGEXES = [
    "",
    "a",
    "b",
    "^free",
    r"\d+",
    r"^\d+$",
    r"^1\.\d+",
    r"(?i)FREE",
    r"\w+$",
    r"\s",
    r"(\w)\1",
    r"(?=p)pro",
    r"(?!f).",
    r"[[:alpha:]]",
    r"a{,2}$",
    ".*",
    r"\bfoo\b",
    "^(True|False)$",
    r"^-?\d*\.\d+$",
    "é",
    "line$",
]
with warnings.catch_warnings():  # `[[` makes Python warn about possible future nested sets
    warnings.simplefilter("ignore", FutureWarning)
    assert all(re.compile(pattern) for pattern in REGEXES)

scalar_texts = st.sampled_from(NUMERIC_LOOKING + SEMVER_LOOKING + WORDS) | st.text(
    alphabet="ab1.- ,é\n", max_size=6
)
trait_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-20, 20),
    st.floats(allow_nan=True, allow_infinity=True, width=32),
    scalar_texts,
)
traits = st.dictionaries(st.sampled_from(TRAIT_NAMES) | st.text(max_size=3), trait_values)
properties = st.sampled_from(TRAIT_NAMES + JSONPATH_PROPERTIES + ["", "missing"])

comparison_values = st.one_of(
    scalar_texts,
    st.sampled_from([*SEMVER_LOOKING, "x.y.z", "1.2.3-beta.10"]).map(lambda v: f"{v}:semver"),
    st.integers(-20, 20).map(str),
    st.floats(allow_nan=False, width=16).map(str),
)
in_values = st.one_of(
    st.lists(st.one_of(scalar_texts, st.integers(-3, 20), st.booleans()), max_size=4),
    st.sampled_from(['["free", "pro"]', "[1, 2, true]", "[bad", "1,2,3", "free, pro", "free"]),
    st.lists(scalar_texts, max_size=4).map(",".join),
)
modulo_values = st.sampled_from(
    ["2|0", "3|1", "2.5|0.5", "0.5|0", "-3|-1", "abc", "1|2|3", "", "|"]
)
percentage_values = st.sampled_from(["0", "10", "50", "99.9", "100", "33.3", "abc", "-1"])


@st.composite
def conditions(draw: st.DrawFn) -> dict[str, Any]:
    operator = draw(st.sampled_from(OPERATORS))
    value: Any
    if operator == "IN":
        value = draw(in_values)
    elif operator == "MODULO":
        value = draw(modulo_values)
    elif operator == "PERCENTAGE_SPLIT":
        value = draw(percentage_values)
    elif operator == "REGEX":
        value = draw(st.sampled_from(REGEXES))
    else:
        value = draw(comparison_values)
    return {"operator": operator, "property": draw(properties), "value": value}


def rules(max_depth: int = 3) -> st.SearchStrategy[dict[str, Any]]:
    def rule_of(children: st.SearchStrategy[list[dict[str, Any]]]) -> st.SearchStrategy[Any]:
        return st.fixed_dictionaries(
            {
                "type": st.sampled_from(["ALL", "ANY", "NONE"]),
                "conditions": st.lists(conditions(), max_size=3),
                "rules": children,
            }
        )

    leaf = rule_of(st.just([]))
    return st.recursive(leaf, lambda inner: rule_of(st.lists(inner, max_size=2)), max_leaves=6)


FEATURE_NAMES = ["f0", "f1", "f2", "f3"]
flag_values = st.one_of(st.none(), st.booleans(), st.integers(-5, 5), st.sampled_from(WORDS))
variant_keys = st.one_of(st.none(), st.sampled_from(["a", "b", "blue"]))


@st.composite
def variants(draw: st.DrawFn) -> list[dict[str, Any]]:
    count = draw(st.integers(0, 3))
    result = []
    for _ in range(count):
        variant: dict[str, Any] = {
            "value": draw(flag_values),
            "weight": draw(st.integers(0, 60) | st.floats(0, 60, width=32)),
            "priority": draw(st.integers(0, 5)),
        }
        if (key := draw(variant_keys)) is not None:
            variant["key"] = key
        result.append(variant)
    return result


@st.composite
def feature_contexts(draw: st.DrawFn, name: str, is_override: bool) -> dict[str, Any]:
    feature: dict[str, Any] = {
        "key": str(draw(st.integers(1, 99999))),
        "name": name,
        "enabled": draw(st.booleans()),
        "value": draw(flag_values),
    }
    if draw(st.booleans()):
        feature["variants"] = draw(variants())
    if draw(st.booleans()):
        feature["metadata"] = draw(st.sampled_from([{}, {"id": 1}, {"id": 2, "x": "y"}]))
    if is_override and draw(st.booleans()):
        feature["priority"] = draw(st.integers(-1, 3) | st.just(float("-inf")))
    return feature


@st.composite
def segments(draw: st.DrawFn, feature_names: list[str]) -> dict[str, Any]:
    result = {}
    for index in range(draw(st.integers(0, 4))):
        key = str(draw(st.integers(1, 999)))
        overrides = [
            draw(feature_contexts(name, is_override=True))
            for name in draw(st.lists(st.sampled_from(feature_names), max_size=3))
        ]
        segment: dict[str, Any] = {
            "key": key,
            "name": f"segment_{index}",
            "rules": draw(st.lists(rules(), max_size=2)),
            "overrides": overrides,
        }
        if draw(st.booleans()):
            segment["metadata"] = {"id": index}
        result[f"s{index}"] = segment
    return result


identifiers = st.sampled_from(["alice", "bob", "12", "1.5", "é"]) | st.text(max_size=5)


@st.composite
def identities(draw: st.DrawFn) -> dict[str, Any] | None:
    if draw(st.integers(0, 5)) == 0:
        return None
    identity: dict[str, Any] = {"identifier": draw(identifiers), "traits": draw(traits)}
    if draw(st.booleans()):
        identity["key"] = draw(st.sampled_from(["", "custom_key", "32103813"]))
    return identity


@st.composite
def environments(draw: st.DrawFn) -> dict[str, Any]:
    """A context without identity: environment, features and segments."""
    names = draw(st.lists(st.sampled_from(FEATURE_NAMES), unique=True, min_size=1))
    return {
        "environment": {
            "key": draw(st.sampled_from(["env_key", "K6xVbZ7nYq3bQeW3sA8u2d", "12"])),
            "name": draw(st.sampled_from(["Production", "free", "7"])),
        },
        "features": {name: draw(feature_contexts(name, is_override=False)) for name in names},
        "segments": draw(segments(names)),
    }
