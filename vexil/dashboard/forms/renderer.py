"""A form renderer that prints the commonest widgets in Python, for the lists' filter forms.

Django renders each widget through its templates (``select.html`` includes ``attrs.html`` and,
per option, ``select_option.html``): the features list's six filters cost about as much as its
50 rows. :class:`PrintingRenderer` prints the text, date and select widgets and the labels of
those templates itself, to the same characters (``tests/dashboard/test_form_renderer.py``
compares the two), and hands every other template, or any value it does not print the same way
(a label that is not a plain string), to Django's templates.
"""

from __future__ import annotations

from collections.abc import Callable
from html import escape
from typing import Any

from django.forms.renderers import DjangoTemplates


def _text(value: Any) -> str:
    """``{{ value }}`` or ``{{ value|stringformat:'s' }}`` of a string or a number: escaped
    unless already safe."""
    if hasattr(value, "__html__"):
        return str(value.__html__())
    return escape(str(value))


def _attrs(attrs: dict[str, Any]) -> str:
    """``django/forms/widgets/attrs.html`` (and ``django/forms/attrs.html``)."""
    return "".join(
        f" {_text(name)}" if value is True else f' {_text(name)}="{_text(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


def _input(context: dict[str, Any]) -> str | None:
    widget = context["widget"]
    value = "" if widget["value"] is None else f' value="{_text(widget["value"])}"'
    return (
        f'<input type="{_text(widget["type"])}" name="{_text(widget["name"])}"{value}'
        f"{_attrs(widget['attrs'])}>"
    )


_OPTION = "django/forms/widgets/select_option.html"


def _select(context: dict[str, Any]) -> str | None:
    widget = context["widget"]
    html = [f'<select name="{_text(widget["name"])}"{_attrs(widget["attrs"])}>']
    for group_name, options, _ in widget["optgroups"]:
        if group_name and not isinstance(group_name, str):
            return None
        if group_name:
            html.append(f'\n  <optgroup label="{_text(group_name)}">')
        for option in options:
            if option["template_name"] != _OPTION or not isinstance(option["label"], str):
                return None
            html.append(
                f'\n  <option value="{_text(option["value"])}"{_attrs(option["attrs"])}>'
                f"{_text(option['label'])}</option>\n"
            )
        if group_name:
            html.append("\n  </optgroup>")
    html.append("\n</select>")
    return "".join(html)


def _label(context: dict[str, Any]) -> str | None:
    label = context["label"]
    if not isinstance(label, str):
        return None
    if not context["use_tag"]:
        return _text(label)
    tag = _text(context["tag"])
    return f"<{tag}{_attrs(context['attrs'])}>{_text(label)}</{tag}>"


_PRINTERS: dict[str, Callable[[dict[str, Any]], str | None]] = {
    "django/forms/widgets/text.html": _input,
    "django/forms/widgets/date.html": _input,
    "django/forms/widgets/input.html": _input,
    "django/forms/widgets/select.html": _select,
    "django/forms/label.html": _label,
}


class PrintingRenderer(DjangoTemplates):
    """Django's default renderer, with the templates of :data:`_PRINTERS` printed in Python."""

    def render(self, template_name: str, context: dict[str, Any], request: Any = None) -> str:
        printer = _PRINTERS.get(template_name)
        printed = printer(context) if printer is not None else None
        if printed is None:
            return str(super().render(template_name, context, request=request))
        return printed.strip()  # as Django's renderers do


#: One renderer for every form that uses it (its template engine, and so its template cache, is
#: built once).
FILTER_RENDERER = PrintingRenderer()
