from __future__ import annotations

from html import escape

from django import template
from django.utils.safestring import SafeString, mark_safe

from vexil.dashboard.forms.features import value_text
from vexil.features.models import FeatureState, FeatureValue, ValueType

register = template.Library()

_TYPE_LABELS = {
    ValueType.STRING: "string",
    ValueType.INTEGER: "integer",
    ValueType.BOOLEAN: "boolean",
}
_LABEL_OF_STORED_TYPE = {str(kind.value): label for kind, label in _TYPE_LABELS.items()}
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
    label = _LABEL_OF_STORED_TYPE.get(state.type, "string")
    html = f'<code class="value">{escape(text)}</code> <span class="type">{label}</span>'
    return mark_safe(html)  # noqa: S308 (the value is escaped; the label is ours)
