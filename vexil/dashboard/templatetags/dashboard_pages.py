"""Filters of the Identities, Evaluate, Compare, Audit and Settings pages."""

from __future__ import annotations

from django import template

from vexil.dashboard.forms.identities import TRAIT_TYPES, trait_type_name
from vexil.identities.models import TraitValue

register = template.Library()
_TRAIT_TYPE_LABELS = dict(TRAIT_TYPES)


@register.filter
def trait_type(value: TraitValue | None) -> str:
    """The type of a trait value, as the trait forms name it: String, Integer, Decimal..."""
    return _TRAIT_TYPE_LABELS[trait_type_name(value)]
