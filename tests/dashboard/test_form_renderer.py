"""The filter forms' renderer prints exactly what Django's form templates print."""

from __future__ import annotations

import datetime
from typing import Any

import pytest
from django import forms
from django.forms.renderers import DjangoTemplates
from django.template.loader import render_to_string

from vexil.dashboard.audit import AuditFilterForm
from vexil.dashboard.forms.features import FeatureFilterForm
from vexil.dashboard.forms.renderer import FILTER_RENDERER
from vexil.tags.models import Tag
from vexil.users.models import User

_TRICKY = "<b>\"a\" & 'b'</b>"


def _as_templates_print(form: forms.Form) -> str:
    """The form's fields through Django's own templates (the default renderer)."""
    form.renderer = DjangoTemplates()
    return render_to_string("dashboard/includes/form.html", {"form": form})


def _as_printed(form: forms.Form) -> str:
    assert form.renderer is FILTER_RENDERER
    return render_to_string("dashboard/includes/form.html", {"form": form})


_FEATURE_INPUTS: list[dict[str, Any]] = [
    {},
    {"search": _TRICKY, "tag": ["1", "2"], "owner": "7", "enabled": "on", "sort": "-changed"},
    {"tag": ["x"], "owner": "nobody", "enabled": "zz", "archived": "all", "search": "x" * 300},
]


@pytest.mark.parametrize("data", _FEATURE_INPUTS)
def test_feature_filters__printed__same_characters_as_the_templates(data: dict[str, Any]) -> None:
    # Given tags and owners whose labels need escaping
    tags = [Tag(pk=1, label=_TRICKY), Tag(pk=2, label="checkout")]
    owners = [User(pk=7, email="a&b@example.com"), User(pk=8, email="z@example.com")]

    def form() -> FeatureFilterForm:
        return FeatureFilterForm(data, tags=tags, owners=owners)

    # When / Then
    printed, templated = form(), form()
    printed.is_valid(), templated.is_valid()
    assert _as_printed(printed) == _as_templates_print(templated)
    assert "&lt;b&gt;&quot;a&quot; &amp; &#x27;b&#x27;&lt;/b&gt;" in _as_printed(form())


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"author": "3", "type": "feature", "date_from": "2026-01-02", "date_to": "2026-01-01"},
        {"author": "x", "type": "nope", "date_from": "not a date"},
    ],
)
def test_audit_filters__printed__same_characters_as_the_templates(data: dict[str, Any]) -> None:
    authors = [(3, _TRICKY), (4, "b@example.com")]

    printed = AuditFilterForm(data, authors=authors)
    templated = AuditFilterForm(data, authors=authors)
    printed.is_valid(), templated.is_valid()

    assert _as_printed(printed) == _as_templates_print(templated)


def test_renderer__grouped_choices_and_other_widgets__same_characters_as_the_templates() -> None:
    class Form(forms.Form):
        grouped = forms.ChoiceField(choices=[("Group <1>", [("a", "A"), ("b", "B")]), ("c", "C")])
        when = forms.DateField(widget=forms.DateInput(attrs={"type": "date", "data-x": True}))
        agree = forms.BooleanField(required=False)
        lazy = forms.ChoiceField(choices=[(1, 1), (2, datetime.date(2026, 1, 2))])

    data = {"grouped": "b", "when": "2026-01-02", "agree": "on", "lazy": "1"}
    printed = Form(data, renderer=FILTER_RENDERER)
    templated = Form(data, renderer=DjangoTemplates())

    assert str(printed) == str(templated)
    assert [str(f) for f in printed] == [str(f) for f in templated]
    assert [f.label_tag() for f in printed] == [f.label_tag() for f in templated]


def test_feature_filters__widgets_and_labels__printed_without_a_template(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_template(name: str) -> None:
        raise AssertionError(f"{name} was rendered through a template")

    monkeypatch.setattr(FILTER_RENDERER, "get_template", no_template)
    form = FeatureFilterForm({"tag": ["1"]}, tags=[Tag(pk=1, label="t")], owners=[])

    widgets = [str(field) for field in form]
    labels = [field.label_tag() for field in form]

    assert widgets[0] == '<input type="text" name="search" maxlength="200" id="id_search">'
    assert labels[1] == '<label for="id_tag">Tags</label>'
