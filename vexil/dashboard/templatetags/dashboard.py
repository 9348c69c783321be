from __future__ import annotations

from django import template

from vexil.dashboard.forms.features import value_text
from vexil.features.models import FeatureValue

register = template.Library()


@register.filter
def feature_value(value: FeatureValue) -> str:
    """A feature value as the user types it: ``true``, ``42``, ``hello``."""
    return value_text(value)
