"""Save-time check of REGEX condition values.

TEMPORARY: replace this module with ``vexil.engine.validate_regex`` once the engine branch is
merged (the integrator swaps the import in ``vexil/segments/services.py``). The engine owns the
one definition of which patterns it can run; this stand-in only refuses what Python cannot compile
and obviously unbounded nested quantifiers.
"""

from __future__ import annotations

import re

_NESTED_QUANTIFIER = re.compile(r"\([^()]*[+*}]\)[+*{]")
MAX_PATTERN_LENGTH = 1_000


def validate_regex(pattern: str) -> str | None:
    """Why ``pattern`` is unusable as a REGEX condition value, or None when it is fine."""
    if len(pattern) > MAX_PATTERN_LENGTH:
        return f"longer than {MAX_PATTERN_LENGTH} characters"
    try:
        re.compile(pattern)
    except re.error as error:
        return str(error)
    if _NESTED_QUANTIFIER.search(pattern):
        return "nested quantifiers can take exponential time"
    return None
