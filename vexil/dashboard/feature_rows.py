"""The rows of the features list, printed in Python.

The list shows 50 rows; through Django's template engine each cost about a quarter of a
millisecond (a dozen tags and lookups), most of the page's time, and ``format_html`` per cell
still a tenth of the page. Here each row is one ``str.format`` over data prepared once, every
text escaped with :func:`html.escape` (what Django's ``escape`` does) and the page's rows marked
safe once. The full page and the single row htmx swaps in after a switch both come from
:func:`_row_html`, so they cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from html import escape

from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe

from vexil.dashboard.templatetags.dashboard import state_value_html
from vexil.features.models import Feature, FeatureType

_NONE = '<span class="muted">—</span>'
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
_SAVE = '<noscript><button type="submit" class="small">Save</button></noscript>'


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


_ARCHIVED = ' <span class="badge">Archived</span>'
_MULTIVARIATE = ' <span class="badge">Multivariate</span>'


def _badges(feature: Feature) -> str:
    return (_ARCHIVED if feature.is_archived else "") + (
        _MULTIVARIATE if feature.type == FeatureType.MULTIVARIATE else ""
    )


def _description(feature: Feature) -> str:
    text = feature.description
    if not text:
        return ""
    if len(text) > 120:
        text = text[:119] + "…"
    return f' <span class="description">{escape(text)}</span>'


def _names(names: list[str], css: str) -> str:
    if not names:
        return _NONE
    return " ".join(f'<span class="{css}">{escape(name)}</span>' for name in names)


def _stale(row: FeatureRow) -> str:
    state = "on" if row.enabled else "off"
    return (
        f' <span class="error" role="alert">Changed elsewhere while you looked: it is {state} now. '
        "Nothing was saved.</span>"
    )


def _row_html(row: FeatureRow, *, csrf: str, may_update: bool, stale: bool) -> str:
    """The row as a plain string; every text in it is escaped here (``escape``)."""
    version = escape(row.changed_iso)
    changed = f'<time datetime="{version}">{escape(row.changed_text)}</time>' if row.changed else ""
    return _ROW.format(
        id=row.feature.pk,
        url=escape(row.url),
        csrf=csrf,
        version=version,
        name=escape(row.feature.name),
        checked=" checked" if row.enabled else "",
        disabled="" if may_update else " disabled",
        save=_SAVE if may_update else "",
        badges=_badges(row.feature),
        stale=_stale(row) if stale else "",
        description=_description(row.feature),
        value=row.value_html,
        tags=_names(row.tags, "tag"),
        owners=_names(row.owners, "owner"),
        changed=changed,
    )


def row_html(
    row: FeatureRow, *, csrf_token: str, may_update: bool, stale: bool = False
) -> SafeString:
    """The row's ``<tr>``: the switch (named after the feature), name, value, tags, owners and
    last change; with ``stale``, the notice that a switch was refused."""
    html = _row_html(row, csrf=escape(csrf_token), may_update=may_update, stale=stale)
    return mark_safe(html)  # noqa: S308 (every text is escaped in _row_html)


def rows_html(rows: Iterable[FeatureRow], *, csrf_token: str, may_update: bool) -> SafeString:
    csrf = escape(csrf_token)
    html = "".join(_row_html(row, csrf=csrf, may_update=may_update, stale=False) for row in rows)
    return mark_safe(html)  # noqa: S308 (every text is escaped in _row_html)
