"""What each kind of destination is sent for an event, and where (docs/integrations.md).

Pure functions: an :class:`Event` and a :class:`Destination` in, a body and a request out. The
body is computed once, when the event is queued, and stored on the outbox row, so the delivery
log shows exactly what was sent; the request's URL and headers are computed at each attempt
(the timestamp and attempt number change, and a key changed since then is the one to use).

* ``webhook``: Flagsmith's envelope ``{"data": ..., "event_type": ...}``, signed (payloads.py);
* ``slack``: an incoming-webhook message, a readable summary with a link to the feature's page;
* ``datadog``: an event for Datadog's ``POST /api/v1/events`` (Flagsmith's text, title and tags);
* ``grafana``: an annotation for Grafana's ``POST /api/annotations`` (Flagsmith's tags);
* ``json``: a flat JSON summary of a flag change, signed as webhooks are.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vexil.webhooks import payloads, signing
from vexil.webhooks.models import DestinationKind, Webhook, WebhookEventType

FLAG_EVENTS = frozenset({WebhookEventType.FLAG_UPDATED, WebhookEventType.FLAG_DELETED})
AUDIT_EVENTS = frozenset({WebhookEventType.AUDIT_LOG_CREATED})
EVENTS_OF: dict[str, frozenset[str]] = {
    DestinationKind.WEBHOOK: FLAG_EVENTS | AUDIT_EVENTS,
    DestinationKind.SLACK: FLAG_EVENTS,
    DestinationKind.JSON: FLAG_EVENTS,
    DestinationKind.DATADOG: AUDIT_EVENTS,
    DestinationKind.GRAFANA: AUDIT_EVENTS,
}
DATADOG_EVENTS_PATH = "api/v1/events"
DATADOG_TITLE = "Flagsmith Feature Flag Event"
DATADOG_SOURCE_TYPE = "flagsmith"
GRAFANA_ANNOTATIONS_PATH = "/api/annotations"
SUMMARY_VALUE_CHARS = 200
NO_ENVIRONMENT = "unknown"


@dataclass(frozen=True)
class Event:
    """One event: Flagsmith's ``data`` (what webhooks receive) and what summaries need."""

    type: str
    data: dict[str, Any]
    moment: datetime
    actor: str = ""
    # For audit events: the project and environment names (the data's own are nested).
    labels: Mapping[str, str] = field(default_factory=dict)
    # For Grafana: what the event is about (``feature:<name>``), after Flagsmith's own tags.
    tags: tuple[str, ...] = ()

    @property
    def flagsmith_body(self) -> str:
        return payloads.body_of(self.type, self.data)


@dataclass(frozen=True)
class Destination:
    """What a format needs of the destination: its kind, settings and where its pages are."""

    kind: str
    url: str
    secret: str
    options: Mapping[str, Any]
    dashboard_base: str = ""
    project_id: int | None = None
    environment_key: str = ""


def destination_of(webhook: Webhook, *, dashboard_base: str = "") -> Destination:
    environment = webhook.environment
    return Destination(
        kind=webhook.kind,
        url=webhook.url,
        secret=webhook.secret,
        options=webhook.options or {},
        dashboard_base=dashboard_base,
        project_id=environment.project_id if environment is not None else webhook.project_id,
        environment_key=environment.api_key if environment is not None else "",
    )


def accepts(kind: str, event_type: str) -> bool:
    return event_type in EVENTS_OF.get(kind, frozenset())


# --- Bodies -----------------------------------------------------------------------------------
def body_for(destination: Destination, event: Event) -> str:
    kind = destination.kind
    if kind == DestinationKind.SLACK:
        return _dumps(slack_message(destination, event))
    if kind == DestinationKind.JSON:
        return _dumps(json_summary(destination, event))
    if kind == DestinationKind.DATADOG:
        return _dumps(datadog_event(destination, event))
    if kind == DestinationKind.GRAFANA:
        return _dumps(grafana_annotation(event))
    return event.flagsmith_body


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


# --- Flag changes, in words -------------------------------------------------------------------
@dataclass(frozen=True)
class FlagSummary:
    feature_id: int
    feature: str
    project_id: int
    project: str
    environment_id: int
    environment: str
    segment: str | None
    identity: str | None
    enabled: bool | None
    previous_enabled: bool | None
    value: Any
    previous_value: Any
    created: bool
    deleted: bool


def flag_summary(event: Event) -> FlagSummary:
    new, old = event.data.get("new_state"), event.data.get("previous_state")
    state = new or old or {}
    feature = state.get("feature") or {}
    segment = (state.get("feature_segment") or {}).get("segment") or {}
    return FlagSummary(
        feature_id=feature.get("id", 0),
        feature=feature.get("name", ""),
        project_id=(feature.get("project") or {}).get("id", 0),
        project=(feature.get("project") or {}).get("name", ""),
        environment_id=(state.get("environment") or {}).get("id", 0),
        environment=(state.get("environment") or {}).get("name", ""),
        segment=segment.get("name"),
        identity=state.get("identity_identifier"),
        enabled=new.get("enabled") if new else None,
        previous_enabled=old.get("enabled") if old else None,
        value=new.get("feature_state_value") if new else None,
        previous_value=old.get("feature_state_value") if old else None,
        created=old is None,
        deleted=new is None,
    )


def _what_happened(summary: FlagSummary) -> str:
    if summary.deleted:
        return "removed"
    if summary.created:
        return "created"
    if summary.enabled != summary.previous_enabled:
        return "turned on" if summary.enabled else "turned off"
    if summary.value != summary.previous_value:
        return "changed the value of"
    return "updated"


def _short(value: Any) -> str:
    text = "null" if value is None else str(value)
    if len(text) > SUMMARY_VALUE_CHARS:
        text = text[: SUMMARY_VALUE_CHARS - 1] + "…"
    return text


def feature_page(destination: Destination, summary: FlagSummary) -> str:
    """The dashboard page of the feature in the destination's environment ("" if unknown)."""
    if not destination.dashboard_base or not destination.environment_key:
        return ""
    return (
        f"{destination.dashboard_base.rstrip('/')}/projects/{summary.project_id}/environments/"
        f"{destination.environment_key}/features/{summary.feature_id}/"
    )


Quote = Callable[[str], str]


def _same(text: str) -> str:
    return text


def _target(summary: FlagSummary, bold: Quote) -> str:
    if summary.segment is not None:
        return f" for segment {bold(summary.segment)}"
    if summary.identity is not None:
        return f" for identity {bold(summary.identity)}"
    return ""


def summary_text(
    event: Event, summary: FlagSummary, *, bold: Quote = _same, escape: Quote = _same
) -> str:
    """``alice@example.com turned on checkout in Production (Shop)``: names through ``bold``."""
    who = event.actor or str(event.data.get("changed_by") or "") or "Someone"
    what = _what_happened(summary)
    article = "the state of " if summary.deleted or what == "updated" else ""
    return (
        f"{bold(who)} {what} {article}{bold(summary.feature)}{_target(summary, bold)} "
        f"in {bold(summary.environment)} ({escape(summary.project)})"
    )


def _value_line(summary: FlagSummary, code: Quote) -> str:
    if summary.deleted:
        return ""
    if summary.created or summary.value == summary.previous_value:
        return f"Value: {code(_short(summary.value))}"
    return f"Value: {code(_short(summary.value))} (was {code(_short(summary.previous_value))})"


# --- Slack --------------------------------------------------------------------------------------
def slack_escape(text: str) -> str:
    """Slack's three control characters (its message formatting rules)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _slack_bold(text: str) -> str:
    return f"*{slack_escape(text)}*"


def _slack_code(text: str) -> str:
    return "`" + slack_escape(text).replace("`", "'") + "`"


def slack_message(destination: Destination, event: Event) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` (notifications) and blocks (the message itself)."""
    summary = flag_summary(event)
    headline = summary_text(event, summary, bold=_slack_bold, escape=slack_escape)
    details = [line for line in [_value_line(summary, _slack_code)] if line]
    link = feature_page(destination, summary)
    if link:
        details.append(f"<{link}|Open {slack_escape(summary.feature)} in Vexil>")
    blocks: list[dict[str, Any]] = [
        {"type": "section", "text": {"type": "mrkdwn", "text": headline}}
    ]
    if details:
        blocks.append(
            {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(details)}]}
        )
    return {"text": summary_text(event, summary, escape=slack_escape), "blocks": blocks}


# --- Generic JSON -------------------------------------------------------------------------------
def json_summary(destination: Destination, event: Event) -> dict[str, Any]:
    summary = flag_summary(event)
    return {
        "event_type": event.type,
        "summary": summary_text(event, summary),
        "changed_by": event.actor or event.data.get("changed_by", ""),
        "timestamp": payloads.timestamp(event.moment),
        "project": {"id": summary.project_id, "name": summary.project},
        "environment": {
            "id": summary.environment_id,
            "name": summary.environment,
            "api_key": destination.environment_key,
        },
        "feature": {"id": summary.feature_id, "name": summary.feature},
        "segment": summary.segment,
        "identity": summary.identity,
        "enabled": summary.enabled,
        "previous_enabled": summary.previous_enabled,
        "value": summary.value,
        "previous_value": summary.previous_value,
        "url": feature_page(destination, summary) or None,
    }


# --- Datadog and Grafana (audit-log events of a project) ----------------------------------------
def _environment_name(event: Event) -> str:
    return event.labels.get("environment") or NO_ENVIRONMENT


def datadog_event(destination: Destination, event: Event) -> dict[str, Any]:
    body: dict[str, Any] = {
        "text": f"{event.data.get('log', '')} by user {event.actor}",
        "title": DATADOG_TITLE,
        "tags": [f"env:{_environment_name(event)}"],
    }
    if destination.options.get("use_custom_source"):
        body["source_type_name"] = DATADOG_SOURCE_TYPE
    return body


def grafana_annotation(event: Event) -> dict[str, Any]:
    moment = int(event.moment.timestamp() * 1000)  # milliseconds since the epoch
    return {
        "tags": [
            "flagsmith",
            f"project:{event.labels.get('project', '')}",
            f"environment:{_environment_name(event)}",
            f"by:{event.actor}",
            *event.tags,
        ],
        "text": event.data.get("log", ""),
        "time": moment,
        "timeEnd": moment,
    }


# --- The request of one attempt -------------------------------------------------------------
def request_url(destination: Destination) -> str:
    url = destination.url
    if destination.kind == DestinationKind.DATADOG:
        return (url if url.endswith("/") else url + "/") + DATADOG_EVENTS_PATH
    if destination.kind == DestinationKind.GRAFANA:
        return url.rstrip("/") + GRAFANA_ANNOTATIONS_PATH
    return url


def request_headers(
    destination: Destination,
    body: bytes,
    *,
    event_id: str,
    event_type: str,
    timestamp: int,
    attempt: int,
) -> dict[str, str]:
    kind = destination.kind
    if kind == DestinationKind.DATADOG:
        return {"Content-Type": signing.CONTENT_TYPE, "DD-API-KEY": destination.secret}
    if kind == DestinationKind.GRAFANA:
        return {
            "Content-Type": signing.CONTENT_TYPE,
            "Authorization": f"Bearer {destination.secret}",
        }
    if kind == DestinationKind.SLACK:
        return {"Content-Type": signing.CONTENT_TYPE}
    return signing.delivery_headers(
        body,
        destination.secret,
        event_id=event_id,
        event_type=event_type,
        timestamp=timestamp,
        attempt=attempt,
    )
