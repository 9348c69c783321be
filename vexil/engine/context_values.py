"""Resolution of a condition's property to a context value (protocol §2.4), compiled once.

A property is a trait key, or a JSONPath (`$.`-prefixed) into the whole evaluation context. The
JSONPath is parsed once with `jsonpath-rfc9535` (the library Flagsmith's engine uses, so both
read the same paths the same way) and turned into the cheapest equivalent getter:

* `$.identity.<name>...` (plain member names) walks the identity dict directly;
* `$.<anything but identity>...` (plain member names) does not depend on the identity, so its
  value is resolved once at compile time;
* anything else (wildcards, indexes, filters, descendants) runs the compiled query against
  the full context document, built once per evaluation and only if such a path is used.

A trait whose name is exactly the property wins over the JSONPath, and an unparseable
`$.`-property is a plain trait key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any, Final

import jsonpath_rfc9535
from jsonpath_rfc9535.segments import JSONPathChildSegment
from jsonpath_rfc9535.selectors import NameSelector

from vexil.engine.coercion import to_context_value
from vexil.engine.types import ContextValue

JSONPATH_PREFIX: Final = "$."
_IDENTITY: Final = "identity"
_SCALAR_TYPES: Final = (str, int, float, bool)


class Subject:
    """Everything about one evaluation that conditions may read. Built once per evaluate().

    `traits` holds the coerced trait values; `raw_traits` the values as sent (JSONPath reads
    them raw and only coerces scalars). Never shared between evaluations.
    """

    __slots__ = ("_document", "_static_document", "identity", "key", "raw_traits", "traits")

    def __init__(
        self,
        identity: Mapping[str, Any] | None,
        key: str | None,
        static_document: Mapping[str, Any],
    ) -> None:
        self.identity = identity
        self.key = key
        raw_traits = (identity.get("traits") if identity else None) or {}
        self.raw_traits: Mapping[str, Any] = raw_traits
        self.traits: dict[str, ContextValue] = {
            name: to_context_value(value) for name, value in raw_traits.items()
        }
        self._static_document = static_document
        self._document: dict[str, Any] | None = None

    def document(self) -> dict[str, Any]:
        """The whole evaluation context as JSONPath sees it (identity key filled in)."""
        if self._document is None:
            document = dict(self._static_document)
            if self.identity is not None:
                document[_IDENTITY] = self.identity
            self._document = document
        return self._document


ValueGetter = Callable[[Subject], ContextValue]


def compile_value_getter(
    prop: object, is_percentage_split: bool, static_document: Mapping[str, Any]
) -> ValueGetter:
    """Compile how a condition finds its context value.

    `static_document` is the context without its identity: the parts that are the same for
    every identity evaluated against this environment.
    """
    if is_percentage_split and not prop:
        # Legacy % split segments have no property and bucket on the identity key, which is
        # hashed as is (it is never coerced).
        return _identity_key
    name = prop if isinstance(prop, str) else ""
    if name.startswith(JSONPATH_PREFIX):
        return _compile_jsonpath_getter(name, static_document)
    return _trait_getter(name)


def _identity_key(subject: Subject) -> ContextValue:
    return subject.key


def _trait_getter(name: str) -> ValueGetter:
    def trait_value(subject: Subject) -> ContextValue:
        return subject.traits.get(name)

    return trait_value


@lru_cache(maxsize=4096)
def _parse_jsonpath(path: str) -> jsonpath_rfc9535.JSONPathQuery | None:
    # Parsed queries are immutable; caching them makes recompiling an environment cheap.
    try:
        return jsonpath_rfc9535.compile(path)
    except jsonpath_rfc9535.JSONPathError:
        return None


def _compile_jsonpath_getter(path: str, static_document: Mapping[str, Any]) -> ValueGetter:
    query = _parse_jsonpath(path)
    if query is None:
        return _trait_getter(path)
    names = _plain_member_names(query)
    if names is None:
        return _with_trait_precedence(path, _document_query(query))
    if names[0] == _IDENTITY:
        return _with_trait_precedence(path, _identity_walk(names[1:]))
    static_value = _static_value(query, static_document)
    return _with_trait_precedence(path, lambda _subject: static_value)


def _plain_member_names(query: jsonpath_rfc9535.JSONPathQuery) -> list[str] | None:
    """`["a", "b"]` for `$.a.b` / `$['a']['b']`; None when the path needs the full library."""
    names: list[str] = []
    for segment in query.segments:
        if type(segment) is not JSONPathChildSegment or len(segment.selectors) != 1:
            return None
        selector = segment.selectors[0]
        if type(selector) is not NameSelector:
            return None
        names.append(selector.name)
    return names or None


def _with_trait_precedence(path: str, resolve: ValueGetter) -> ValueGetter:
    def value(subject: Subject) -> ContextValue:
        trait = subject.traits.get(path)
        if trait is not None:
            return trait
        return resolve(subject)

    return value


def _identity_walk(names: list[str]) -> ValueGetter:
    def walk(subject: Subject) -> ContextValue:
        node: Any = subject.identity
        for name in names:
            if not isinstance(node, dict):
                return None
            if name not in node:
                return None
            node = node[name]
        return _scalar(node)

    return walk


def _document_query(query: jsonpath_rfc9535.JSONPathQuery) -> ValueGetter:
    def find(subject: Subject) -> ContextValue:
        return _first_scalar(query, subject.document())

    return find


def _static_value(
    query: jsonpath_rfc9535.JSONPathQuery, static_document: Mapping[str, Any]
) -> ContextValue:
    return _first_scalar(query, dict(static_document))


def _first_scalar(query: jsonpath_rfc9535.JSONPathQuery, document: dict[str, Any]) -> ContextValue:
    try:
        node = query.find_one(document)
    except jsonpath_rfc9535.JSONPathError:
        return None
    return None if node is None else _scalar(node.value)


def _scalar(value: Any) -> ContextValue:
    """A JSONPath match counts only if it is a scalar; objects and arrays read as null."""
    if value is None or isinstance(value, _SCALAR_TYPES):
        return to_context_value(value)
    return None
