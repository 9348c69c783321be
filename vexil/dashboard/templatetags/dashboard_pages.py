"""Filters of the Identities, Evaluate, Compare, Audit and Settings pages."""

from __future__ import annotations

from collections.abc import Sequence

from django import template
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from vexil.audit.diffs import DiffLine
from vexil.dashboard.forms.identities import TRAIT_TYPES, trait_type_name
from vexil.identities.models import TraitValue

register = template.Library()
_TRAIT_TYPE_LABELS = dict(TRAIT_TYPES)


@register.filter
def trait_type(value: TraitValue | None) -> str:
    """The type of a trait value, as the trait forms name it: String, Integer, Decimal..."""
    return _TRAIT_TYPE_LABELS[trait_type_name(value)]


_DIFF_MARKS = {"removed": ("<del>- ", "</del>"), "added": ("<ins>+ ", "</ins>"), "same": ("  ", "")}


@register.filter
def diff_lines(lines: Sequence[DiffLine]) -> SafeString:
    """A line diff as the inside of a ``<pre>``: removed lines in ``<del>``, added in ``<ins>``.
    Built here rather than by a template loop: the audit log draws thousands of these lines per
    page, and every line's text is escaped."""
    return mark_safe(  # noqa: S308 (each line is escaped; only our own tags are added)
        "\n".join(
            f"{_DIFF_MARKS[line.kind][0]}{escape(line.text)}{_DIFF_MARKS[line.kind][1]}"
            for line in lines
        )
    )
