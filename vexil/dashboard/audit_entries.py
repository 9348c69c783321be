"""The entries of the audit log page, printed in Python.

A page holds 50 entries, each with a table of changed fields; through Django's template engine
that was most of the page's time. Each entry is now a few ``format_html`` calls over the
selector's plain data (``vexil.audit.selectors.AuditEntry``); every text is escaped.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe

from vexil.audit.diffs import FieldChange
from vexil.audit.selectors import AuditEntry
from vexil.dashboard.templatetags.dashboard_pages import diff_lines

_NONE = mark_safe('<span class="muted">(none)</span>')
_EMPTY = mark_safe('<li class="muted">No changes match.</li>')
_ENTRY = (
    '<li class="card"><h2>{log}</h2><p class="muted">'
    '<time datetime="{iso}">{when}</time> · {action} by {author} · {kind}{where}</p>{changes}</li>'
)
_TABLE = (
    '<table class="diff"><caption>Changes</caption><thead><tr><th scope="col">Field</th>'
    '<th scope="col">Before</th><th scope="col">After</th></tr></thead><tbody>{}</tbody></table>'
)


_SIDES = {"before": "<del><code>{}</code></del>", "after": "<ins><code>{}</code></ins>"}


def _side(value: str | None, side: str) -> SafeString:
    return _NONE if value is None else format_html(_SIDES[side], value)


def _change(change: FieldChange) -> SafeString:
    if change.lines:
        return format_html(
            '<tr><th scope="row">{}</th><td colspan="2"><pre aria-label="Changes to {}">{}</pre>'
            "</td></tr>",
            change.field,
            change.field,
            diff_lines(change.lines),
        )
    return format_html(
        '<tr><th scope="row">{}</th><td>{}</td><td>{}</td></tr>',
        change.field,
        _side(change.before, "before"),
        _side(change.after, "after"),
    )


def _where(entry: AuditEntry) -> SafeString:
    return format_html_join(
        "", " · {}", ((name,) for name in (entry.project_name, entry.environment_name) if name)
    )


def entry_html(entry: AuditEntry) -> SafeString:
    when = timezone.localtime(entry.created_date)
    changes = (
        format_html(_TABLE, format_html_join("", "{}", ((_change(c),) for c in entry.changes)))
        if entry.changes
        else ""
    )
    return format_html(
        _ENTRY,
        log=entry.log,
        iso=when.isoformat(),
        when=f"{when:%Y-%m-%d %H:%M:%S}",
        action=entry.action,
        author=entry.author,
        kind=entry.resource_type_label,
        where=_where(entry),
        changes=changes,
    )


def entries_html(entries: Iterable[AuditEntry]) -> SafeString:
    html = format_html_join("", "{}", ((entry_html(entry),) for entry in entries))
    return html or _EMPTY
