"""Vexil's flag evaluation engine: pure Python, wire-compatible with Flagsmith's engine.

Plain data in, plain data out; nothing of Django or the rest of Vexil is imported here.

* `get_evaluation_result(context)`: evaluate one EvaluationContext (protocol §2).
* `compile_environment(context)` -> `CompiledEnvironment`: compile once per environment
  revision, then per identity `.evaluate_flags(identity)` (flags only, the fast path) or
  `.evaluate(identity)` (flags and matched segments), or `.evaluate_defaults()` for `/flags/`,
  or `.explain(identity)` (flags with the reason each is served: for previews).
* `validate_regex(pattern)`: why a REGEX condition value is unusable, or None.
"""

from vexil.engine.environment import (
    DEFAULT_REASON,
    CompiledEnvironment,
    compile_environment,
    get_evaluation_result,
)
from vexil.engine.features import SOURCE_DEFAULT, SOURCE_IDENTITY_OVERRIDE, SOURCE_SEGMENT
from vexil.engine.hashing import hashed_percentage
from vexil.engine.safe_regex import regex_timeouts, validate_regex
from vexil.engine.types import (
    ContextValue,
    EvaluationContext,
    EvaluationResult,
    ExplainedFlag,
    FlagReason,
    FlagResult,
    IdentityContext,
    SegmentResult,
)

__all__ = [
    "DEFAULT_REASON",
    "SOURCE_DEFAULT",
    "SOURCE_IDENTITY_OVERRIDE",
    "SOURCE_SEGMENT",
    "CompiledEnvironment",
    "ContextValue",
    "EvaluationContext",
    "EvaluationResult",
    "ExplainedFlag",
    "FlagReason",
    "FlagResult",
    "IdentityContext",
    "SegmentResult",
    "compile_environment",
    "get_evaluation_result",
    "hashed_percentage",
    "regex_timeouts",
    "validate_regex",
]
