from __future__ import annotations

from django import template
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from vexil.dashboard.forms.features import value_text
from vexil.features.models import FeatureState, FeatureValue, ValueType

register = template.Library()

_TYPE_LABELS = {
    ValueType.STRING: "string",
    ValueType.INTEGER: "integer",
    ValueType.BOOLEAN: "boolean",
}
VALUE_SHOWN = 60


@register.filter
def feature_value(value: FeatureValue) -> str:
    """A feature value as the user types it: ``true``, ``42``, ``hello``."""
    return value_text(value)


@register.filter
def state_value_html(state: FeatureState | None) -> SafeString:
    """A state's value and its type, for a table cell (one filter: the list renders 50 rows)."""
    if state is None or state.value is None:
        return mark_safe('<span class="muted">no value</span>')
    text = value_text(state.value)
    if len(text) > VALUE_SHOWN:
        text = text[: VALUE_SHOWN - 1] + "…"
    label = _TYPE_LABELS.get(ValueType(state.type), "string")
    return format_html('<code class="value">{}</code> <span class="type">{}</span>', text, label)
