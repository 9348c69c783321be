"""The rows of the features list, printed in Python.

The list shows 50 rows; through Django's template engine each cost about a quarter of a
millisecond (a dozen tags and lookups), most of the page's time. Here each row is one
``format_html`` call over data prepared once. The full page and the single row htmx swaps in
after a switch both come from :func:`row_html`, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from vexil.dashboard.templatetags.dashboard import state_value_html
from vexil.features.models import Feature, FeatureType

_NONE = mark_safe('<span class="muted">—</span>')
_ROW = (
    '<tr id="feature-{id}"><td>'
    '<form method="post" action="{url}toggle/" hx-post="{url}toggle/" hx-trigger="change" '
    'hx-target="#feature-{id}" hx-swap="outerHTML">'
    '<input type="hidden" name="csrfmiddlewaretoken" value="{csrf}">'
    '<input type="hidden" name="version" value="{version}">'
    '<input type="checkbox" role="switch" class="switch" name="enabled" aria-label="{name}"'
    "{checked}{disabled}>{save}</form></td>"
    '<th scope="row"><a href="{url}">{name}</a>{badges}{stale}{description}</th>'
    "<td>{value}</td><td>{tags}</td><td>{owners}</td><td>{changed}</td></tr>"
)
_SAVE = mark_safe('<noscript><button type="submit" class="small">Save</button></noscript>')


@dataclass(frozen=True)
class FeatureRow:
    """One row of the features list: everything it prints, read once."""

    feature: Feature
    url: str
    enabled: bool
    value_html: SafeString
    tags: list[str]
    owners: list[str]
    changed: datetime | None

    @property
    def changed_iso(self) -> str:
        return self.changed.isoformat() if self.changed else ""

    @property
    def changed_text(self) -> str:
        return f"{timezone.localtime(self.changed):%-d %b %Y %H:%M}" if self.changed else ""


def feature_rows(features: Iterable[Feature], features_url: str) -> list[FeatureRow]:
    """Rows of features from ``selectors.environment_features`` (state, tags, owners loaded)."""
    rows = []
    for feature in features:
        state = feature.environment_state[0] if feature.environment_state else None  # type: ignore[attr-defined]
        rows.append(
            FeatureRow(
                feature=feature,
                url=f"{features_url}{feature.pk}/",
                enabled=bool(state and state.enabled),
                value_html=state_value_html(state),
                tags=[tag.label for tag in feature.tag_list],  # type: ignore[attr-defined]
                owners=[user.email for user in feature.owner_list],  # type: ignore[attr-defined]
                changed=state.updated_at if state else None,
            )
        )
    return rows


_ARCHIVED = mark_safe(' <span class="badge">Archived</span>')
_MULTIVARIATE = mark_safe(' <span class="badge">Multivariate</span>')


def _badges(feature: Feature) -> SafeString:
    return format_html(
        "{}{}",
        _ARCHIVED if feature.is_archived else "",
        _MULTIVARIATE if feature.type == FeatureType.MULTIVARIATE else "",
    )


def _description(feature: Feature) -> SafeString:
    text = feature.description
    if not text:
        return mark_safe("")
    if len(text) > 120:
        text = text[:119] + "…"
    return format_html(' <span class="description">{}</span>', text)


def _names(names: list[str], css: str) -> SafeString:
    if not names:
        return _NONE
    return format_html_join(" ", '<span class="' + css + '">{}</span>', ((n,) for n in names))


def _stale(row: FeatureRow) -> SafeString:
    state = "on" if row.enabled else "off"
    return format_html(
        ' <span class="error" role="alert">Changed elsewhere while you looked: it is {} now. '
        "Nothing was saved.</span>",
        state,
    )


def row_html(
    row: FeatureRow, *, csrf_token: str, may_update: bool, stale: bool = False
) -> SafeString:
    """The row's ``<tr>``: the switch (named after the feature), name, value, tags, owners and
    last change; with ``stale``, the notice that a switch was refused."""
    changed = (
        format_html('<time datetime="{}">{}</time>', row.changed_iso, row.changed_text)
        if row.changed
        else ""
    )
    return format_html(
        _ROW,
        id=row.feature.pk,
        url=row.url,
        csrf=csrf_token,
        version=row.changed_iso,
        name=row.feature.name,
        checked=mark_safe(" checked") if row.enabled else "",
        disabled="" if may_update else mark_safe(" disabled"),
        save=_SAVE if may_update else "",
        badges=_badges(row.feature),
        stale=_stale(row) if stale else "",
        description=_description(row.feature),
        value=row.value_html,
        tags=_names(row.tags, "tag"),
        owners=_names(row.owners, "owner"),
        changed=changed,
    )


def rows_html(rows: Iterable[FeatureRow], *, csrf_token: str, may_update: bool) -> SafeString:
    return format_html_join(
        "", "{}", ((row_html(row, csrf_token=csrf_token, may_update=may_update),) for row in rows)
    )
