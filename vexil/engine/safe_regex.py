"""REGEX conditions without catastrophic backtracking.

Segment regexes are user input evaluated on every identity request, and the protocol gives them
Python `re.match` semantics (Python syntax, anchored at the start only). Strategy:

1. The pattern must compile with Python's `re`; otherwise it is invalid and never matches
   (`validate_regex` reports the error so the management API can refuse it up front).
2. If RE2 can run it with the same meaning, RE2 does (linear time, no backtracking).
   RE2 and Python differ on a few constructs, found by parsing the pattern with Python's own
   parser: backreferences, lookarounds, atomic groups and possessive quantifiers (RE2 cannot
   express them), POSIX-looking classes such as `[[:alpha:]]` and `{,n}` (RE2 reads them
   differently), Unicode-aware `\\d \\w \\s \\b` and case folding (RE2 is ASCII-only there), and
   `$` (Python also matches before a final newline). The last two only matter for some inputs,
   so they are decided per input string: a pattern with Unicode-aware parts still uses RE2 for
   ASCII input without the control characters Python counts as whitespace.
3. Everything else runs on the `regex` package in its `re`-compatible mode (VERSION0) with a
   per-match time limit of `FALLBACK_TIMEOUT_SECONDS`; a match that runs out of time counts as
   no match. That bounds the worst case per condition evaluation (backreferences can make any
   backtracking engine exponential, so a length cap alone would not).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable
from typing import Any, Final

import re2
import regex

# Python's own (private) regex parser is the only exact description of `re` syntax. It moved
# to `re._parser` in 3.11; the old top-level names still work there but warn.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

#: Longest time one fallback match may take before it counts as no match.
FALLBACK_TIMEOUT_SECONDS: Final = 0.02

_RE2_UNSUPPORTED_OPCODES: Final = frozenset(
    {
        sre_constants.GROUPREF,
        sre_constants.GROUPREF_EXISTS,
        sre_constants.ASSERT,
        sre_constants.ASSERT_NOT,
        getattr(sre_constants, "GROUPREF_IGNORE", sre_constants.GROUPREF),
        getattr(sre_constants, "ATOMIC_GROUP", sre_constants.GROUPREF),
        getattr(sre_constants, "POSSESSIVE_REPEAT", sre_constants.GROUPREF),
    }
)
_UNICODE_AWARE_AT_CODES: Final = frozenset({sre_constants.AT_BOUNDARY})
# Python's \B never matches an empty string; RE2's does.
_RE2_DIFFERENT_AT_CODES: Final = frozenset({sre_constants.AT_NON_BOUNDARY})
# Characters Python's `\s` matches in ASCII text but RE2's `\s` does not.
_PYTHON_ONLY_ASCII_SPACE: Final = frozenset("\x0b\x1c\x1d\x1e\x1f")
_RAW_SYNTAX_READ_DIFFERENTLY: Final = ("[:", "{,")


class _PatternTraits:
    """What the Python parse tree says about RE2 compatibility."""

    __slots__ = ("has_end_anchor", "re2_unsupported", "unicode_aware")

    def __init__(self) -> None:
        self.re2_unsupported = False
        self.unicode_aware = False
        self.has_end_anchor = False


_timeouts = 0


def regex_timeouts() -> int:
    """How many fallback matches have run out of time in this process so far. A result
    evaluated while this number moved may owe a "no match" to the machine's load rather than to
    the rules, so it should not be kept (the server's identity cache checks this)."""
    return _timeouts


def _count_timeout() -> None:
    global _timeouts
    _timeouts += 1


def validate_regex(pattern: str) -> str | None:
    """Return why `pattern` is not a usable REGEX condition value, or None if it is."""
    try:
        re.compile(pattern)
    except (re.error, RecursionError, OverflowError, ValueError) as error:
        return f"Invalid regular expression: {error}"
    return None


def compile_regex(pattern: str) -> Callable[[str], bool]:
    """Compile `pattern` into a predicate with `re.match` semantics that never hangs.

    An invalid pattern gives a predicate that is always False.
    """
    if validate_regex(pattern) is not None:
        return _never
    tree = sre_parse.parse(pattern)
    traits = _traits_of(pattern, tree)
    fallback = _compile_fallback(pattern)
    if traits.re2_unsupported:
        return fallback
    fast = _compile_re2(pattern, fallback)
    if fast is None:
        return fallback
    if traits.unicode_aware and traits.has_end_anchor:
        return lambda text: (
            fast(text) if _is_re2_safe_text(text) and text[-1:] != "\n" else fallback(text)
        )
    if traits.unicode_aware:
        return lambda text: fast(text) if _is_re2_safe_text(text) else fallback(text)
    if traits.has_end_anchor:
        return lambda text: fast(text) if text[-1:] != "\n" else fallback(text)
    return fast


def _never(text: str) -> bool:
    return False


def _is_re2_safe_text(text: str) -> bool:
    return text.isascii() and _PYTHON_ONLY_ASCII_SPACE.isdisjoint(text)


def _traits_of(pattern: str, tree: Any) -> _PatternTraits:
    traits = _PatternTraits()
    if any(marker in pattern for marker in _RAW_SYNTAX_READ_DIFFERENTLY):
        traits.re2_unsupported = True
    if tree.state.flags & (re.IGNORECASE | re.VERBOSE):
        # VERBOSE is rejected by RE2 anyway; IGNORECASE folds Unicode differently.
        traits.unicode_aware = True
    _walk(tree, traits)
    return traits


def _walk(items: Any, traits: _PatternTraits) -> None:
    for opcode, argument in items:
        if opcode in _RE2_UNSUPPORTED_OPCODES:
            traits.re2_unsupported = True
        elif opcode is sre_constants.CATEGORY:
            traits.unicode_aware = True
        elif opcode is sre_constants.AT:
            _note_anchor(argument, traits)
        elif opcode is sre_constants.IN:
            _walk(argument, traits)
        elif opcode is sre_constants.BRANCH:
            for branch in argument[1]:
                _walk(branch, traits)
        elif opcode is sre_constants.SUBPATTERN:
            _walk_group(argument, traits)
        elif opcode in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            _walk(argument[2], traits)


def _walk_group(argument: Any, traits: _PatternTraits) -> None:
    _group, added_flags, _removed_flags, body = argument
    if added_flags & (re.IGNORECASE | re.VERBOSE):
        traits.unicode_aware = True
    _walk(body, traits)


def _note_anchor(at_code: Any, traits: _PatternTraits) -> None:
    if at_code in _RE2_DIFFERENT_AT_CODES:
        traits.re2_unsupported = True
    elif at_code in _UNICODE_AWARE_AT_CODES:
        traits.unicode_aware = True
    elif at_code is sre_constants.AT_END:
        traits.has_end_anchor = True


def _compile_re2(pattern: str, fallback: Callable[[str], bool]) -> Callable[[str], bool] | None:
    options = re2.Options()
    options.never_capture = True
    options.log_errors = False
    try:
        compiled = re2.compile(pattern, options)
    except re2.error:
        return None
    return _fast_matcher(compiled, fallback)


def _fast_matcher(compiled: Any, fallback: Callable[[str], bool]) -> Callable[[str], bool]:
    # The public `match` decodes spans back to str offsets (about 6 µs); the wrapped RE2 object
    # answers the only question asked here, "is there a match at 0", in about 1 µs. Use it when
    # this google-re2 version exposes it, the public API otherwise.
    raw = getattr(compiled, "_regexp", None)
    anchor = getattr(getattr(re2, "_Anchor", None), "ANCHOR_START", None)
    if raw is None or anchor is None or not hasattr(raw, "Match"):
        return lambda text: compiled.match(text) is not None  # pragma: no cover
    no_match = (-1, -1)

    def matches(text: str) -> bool:
        try:
            encoded = text.encode("utf-8")
        except UnicodeEncodeError:
            # Lone surrogates (possible in JSON) are not UTF-8; RE2 cannot see them.
            return fallback(text)
        return bool(raw.Match(anchor, encoded, 0, len(encoded))[0] != no_match)

    return matches


def _compile_fallback(pattern: str) -> Callable[[str], bool]:
    python_compiled = re.compile(pattern)
    try:
        # `regex` reads `[:alpha:]` as a POSIX class even in its re-compatible mode; an escaped
        # colon means the same to Python in and out of a set, and is no POSIX class to `regex`.
        compiled = regex.compile(pattern.replace("[:", "[\\:"), flags=regex.VERSION0)
    except (regex.error, RecursionError, OverflowError, ValueError):
        return _never

    def matches(text: str) -> bool:
        if not text:
            # Python's own engine does bounded work on an empty input, and `regex` differs
            # from it there (Python's \B never matches an empty string).
            return python_compiled.match(text) is not None
        try:
            return compiled.match(text, timeout=FALLBACK_TIMEOUT_SECONDS) is not None
        except TimeoutError:
            _count_timeout()
            return False

    return matches
