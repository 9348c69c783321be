"""An audit row's ``before`` and ``after`` as a readable diff: one entry per changed field, and
for structured values (segment rules, allocations) a line diff of their indented JSON."""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from typing import Any, Literal

LineKind = Literal["same", "removed", "added"]


@dataclass(frozen=True, slots=True)
class DiffLine:
    kind: LineKind
    text: str


@dataclass(frozen=True, slots=True)
class FieldChange:
    """A field whose value differs. ``before``/``after`` are the values as JSON text, None when
    the field is absent on that side. ``lines`` is set for values that span several lines."""

    field: str
    before: str | None
    after: str | None
    lines: tuple[DiffLine, ...] = ()

    @property
    def kind(self) -> Literal["added", "removed", "changed"]:
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        return "changed"


_ABSENT = object()


def field_changes(before: Any, after: Any) -> list[FieldChange]:
    """The changed fields between two audit snapshots, by field name. A snapshot that is not an
    object (never written by Vexil's services) is compared as one field named ``value``."""
    before_fields = _fields(before)
    after_fields = _fields(after)
    changes = []
    for name in sorted(set(before_fields) | set(after_fields)):
        old = before_fields.get(name, _ABSENT)
        new = after_fields.get(name, _ABSENT)
        if _same(old, new):
            continue
        changes.append(_change(name, old, new))
    return changes


def _fields(snapshot: Any) -> dict[str, Any]:
    if snapshot is None:
        return {}
    if isinstance(snapshot, dict):
        return snapshot
    return {"value": snapshot}


def _same(old: Any, new: Any) -> bool:
    # type() as well: 1 == True == 1.0, but they are different values to an SDK
    return type(old) is type(new) and old == new


def _text(value: Any) -> str | None:
    if value is _ABSENT:
        return None
    if isinstance(value, dict | list):
        return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False)
    return json.dumps(value, ensure_ascii=False)


def _change(name: str, old: Any, new: Any) -> FieldChange:
    before, after = _text(old), _text(new)
    multiline = any(text is not None and "\n" in text for text in (before, after))
    lines = _line_diff(before or "", after or "") if multiline else ()
    return FieldChange(name, before, after, lines)


def _line_diff(before: str, after: str) -> tuple[DiffLine, ...]:
    old, new = before.splitlines(), after.splitlines()
    lines: list[DiffLine] = []
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            lines.extend(DiffLine("same", text) for text in old[old_start:old_end])
            continue
        lines.extend(DiffLine("removed", text) for text in old[old_start:old_end])
        lines.extend(DiffLine("added", text) for text in new[new_start:new_end])
    return tuple(lines)
