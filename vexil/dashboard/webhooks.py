"""Webhooks and integrations pages, for an environment, a project and an organisation.

An environment has webhooks (its flag events) and the Slack and JSON-webhook integrations; a
project has the Datadog and Grafana integrations; an organisation has webhooks (its audit log)
and Flagsmith's organisation-level Grafana (for its projects without their own, also offered on
the organisation's settings page).
Each is for the administrators of its scope (the management API's rule): the list with create
forms (a webhook's secret shown once, in the response that created it), a page per webhook or
integration to edit, send a test event to (every kind: the API's ``test/`` routes), delete and
read its delivery log. The same webhook services as the API do the work.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from vexil.dashboard.forms.webhooks import (
    INTEGRATION_FORMS,
    WebhookCreateForm,
    WebhookEditForm,
)
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.permissions import selectors as permissions
from vexil.webhooks import payloads, selectors, services
from vexil.webhooks.models import DestinationKind, Webhook

DELIVERY_LOG_ROWS = 50
ENVIRONMENT_KINDS = (DestinationKind.SLACK, DestinationKind.JSON)
PROJECT_KINDS = (DestinationKind.DATADOG, DestinationKind.GRAFANA)
ORGANISATION_KINDS = (DestinationKind.GRAFANA,)
ORGANISATION_GRAFANA_HELP = (
    "Annotations for the audit log of this organisation's projects that have no Grafana "
    "integration of their own."
)


# --- The scope: which page family, who may use it, what it holds -------------------------------
def _prefix(scope: Scope) -> str:
    if scope.environment is not None:
        return "environment"
    return "project" if scope.project is not None else "organisation"


def _args(scope: Scope) -> list[Any]:
    if scope.environment is not None:
        return [scope.current_project.pk, scope.environment.api_key]
    if scope.project is not None:
        return [scope.project.pk]
    assert scope.organisation is not None
    return [scope.organisation.pk]


def _url(scope: Scope, name: str, *extra: Any) -> str:
    return reverse(f"dashboard:{_prefix(scope)}-{name}", args=[*_args(scope), *extra])


def may_manage(scope: Scope) -> bool:
    if scope.environment is not None:
        return scope.is_environment_admin
    if scope.project is not None:
        return scope.is_project_admin
    assert scope.organisation is not None
    return permissions.is_organisation_admin(scope.user, scope.organisation.pk)


def _kinds(scope: Scope) -> tuple[str, ...]:
    if scope.environment is not None:
        return ENVIRONMENT_KINDS
    return PROJECT_KINDS if scope.project is not None else ORGANISATION_KINDS


def _webhooks(scope: Scope) -> QuerySet[Webhook]:
    if scope.environment is not None:
        return selectors.environment_webhooks(scope.environment)
    if scope.project is not None:
        return Webhook.objects.none()
    assert scope.organisation is not None
    return selectors.organisation_webhooks(scope.organisation)


def _integrations(scope: Scope) -> QuerySet[Webhook]:
    if scope.environment is not None:
        return selectors.integrations_of_environment(scope.environment)
    if scope.project is not None:
        return selectors.integrations_of_project(scope.project)
    assert scope.organisation is not None
    return selectors.integrations_of_organisation(scope.organisation)


def _one(scope: Scope, webhook_id: int) -> Webhook:
    found = (_webhooks(scope) | _integrations(scope)).filter(pk=webhook_id).first()
    if found is None:
        raise Http404
    return found


# --- The list, with its create forms -----------------------------------------------------------
def _list_page(
    request: HttpRequest,
    scope: Scope,
    *,
    create_form: WebhookCreateForm | None = None,
    integration_form: tuple[str, Any] | None = None,
    new_secret: str | None = None,
    status: int = 200,
) -> HttpResponse:
    integrations = {row.kind: row for row in _integrations(scope)}
    offers = []
    for kind in _kinds(scope):
        # A refused form is shown with its errors even when the integration exists (a second
        # create, from a page loaded before the first was made).
        given = integration_form[1] if integration_form and integration_form[0] == kind else None
        form = given or (INTEGRATION_FORMS[kind](prefix=kind) if kind not in integrations else None)
        offers.append(
            {
                "kind": kind,
                "label": DestinationKind(kind).label,
                "help": ORGANISATION_GRAFANA_HELP if _prefix(scope) == "organisation" else "",
                "row": integrations.get(kind),
                "url": _url(scope, "webhook", integrations[kind].pk)
                if kind in integrations
                else "",
                "form": form,
                "action": _url(scope, "integration-create", kind),
            }
        )
    webhooks = [{"row": row, "url": _url(scope, "webhook", row.pk)} for row in _webhooks(scope)]
    has_webhooks = scope.project is None or scope.environment is not None
    context = {
        "family": _prefix(scope),
        "has_webhooks": has_webhooks,
        "webhooks": webhooks,
        "create_form": create_form or WebhookCreateForm(prefix="webhook"),
        "create_action": _url(scope, "webhook-create")
        if scope.environment or not scope.project
        else "",
        "integrations": offers,
        "new_secret": new_secret,
    }
    response = render_page(request, "dashboard/webhooks/list.html", scope, context, status=status)
    if new_secret is not None:
        response["Cache-Control"] = "no-store"
    return response


@page(read=[may_manage])
def webhooks(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _list_page(request, scope)


@never_cache
@page(methods=["POST"], read=[may_manage])
def webhook_create(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The new webhook's secret is in this response only."""
    if scope.project is not None and scope.environment is None:
        raise Http404
    form = WebhookCreateForm(request.POST, prefix="webhook")

    def save(data: dict[str, Any]) -> HttpResponse:
        webhook = services.webhook_create(
            organisation=_organisation_of(scope), environment=scope.environment, **form.changes()
        )
        return _list_page(request, scope, new_secret=webhook.secret, status=201)

    return submit(form, save, default="url") or _list_page(
        request, scope, create_form=form, status=400
    )


def _organisation_of(scope: Scope) -> Any:
    if scope.environment is not None:
        return scope.current_project.organisation
    return scope.organisation


@page(methods=["POST"], read=[may_manage])
def integration_create(request: HttpRequest, scope: Scope, kind: str) -> HttpResponse:
    if kind not in _kinds(scope):
        raise Http404
    form = INTEGRATION_FORMS[kind](request.POST, prefix=kind)

    def save(data: dict[str, Any]) -> HttpResponse:
        changes = form.changes() if hasattr(form, "changes") else dict(data)
        integration = services.integration_create(kind=kind, **_where(scope), **changes)
        # Its own page next: where it is tested, edited and its deliveries are read.
        return redirect(_url(scope, "webhook", integration.pk))

    return submit(form, save, default="url") or _list_page(
        request, scope, integration_form=(kind, form), status=400
    )


def _where(scope: Scope) -> dict[str, Any]:
    if scope.environment is not None:
        return {"environment": scope.environment}
    if scope.project is not None:
        return {"project": scope.project}
    return {"organisation": scope.organisation}


# --- One webhook or integration: edit, test, delete, its delivery log -------------------------
def _detail_page(
    request: HttpRequest,
    scope: Scope,
    webhook: Webhook,
    *,
    form: WebhookEditForm | None = None,
    outcome: services.TestSendOutcome | None = None,
    status: int = 200,
) -> HttpResponse:
    context = {
        "webhook": webhook,
        "shown": webhook.name or _shown_url(webhook),
        "label": DestinationKind(webhook.kind).label,
        "form": form or WebhookEditForm(webhook=webhook, prefix="edit"),
        "save_action": _url(scope, "webhook", webhook.pk),
        "test_action": _url(scope, "webhook-test", webhook.pk),
        "delete_action": _url(scope, "webhook-delete", webhook.pk),
        "list_url": _url(scope, "webhooks"),
        "outcome": outcome,
        "deliveries": list(selectors.deliveries_of(webhook)[:DELIVERY_LOG_ROWS]),
    }
    return render_page(request, "dashboard/webhooks/detail.html", scope, context, status=status)


def _shown_url(webhook: Webhook) -> str:
    """Slack's URL holds its token: only its host is shown."""
    if webhook.kind == DestinationKind.SLACK:
        return urlsplit(webhook.url).hostname or ""
    return webhook.url


@page(methods=["GET", "POST"], read=[may_manage])
def webhook_detail(request: HttpRequest, scope: Scope, webhook_id: int) -> HttpResponse:
    webhook = _one(scope, webhook_id)
    if request.method != "POST":
        return _detail_page(request, scope, webhook)
    form = WebhookEditForm(request.POST, webhook=webhook, prefix="edit")

    def save(data: dict[str, Any]) -> HttpResponse:
        if webhook.is_integration:
            services.integration_update(integration=webhook, **form.changes())
        else:
            services.webhook_update(webhook=webhook, **form.changes())
        return redirect(_url(scope, "webhook", webhook.pk))

    return submit(form, save, default="url") or _detail_page(
        request, scope, webhook, form=form, status=400
    )


@page(methods=["POST"], read=[may_manage])
def webhook_delete(request: HttpRequest, scope: Scope, webhook_id: int) -> HttpResponse:
    services.webhook_delete(webhook=_one(scope, webhook_id))
    return redirect(_url(scope, "webhooks"))


@page(methods=["POST"], read=[may_manage])
def webhook_test(request: HttpRequest, scope: Scope, webhook_id: int) -> HttpResponse:
    """Send a sample event now (Flagsmith's for a webhook, in its own format for an
    integration), and say what came back: the API's ``test/`` routes, through the same services."""
    webhook = _one(scope, webhook_id)
    if webhook.is_integration:
        outcome = services.integration_test_send(integration=webhook)
        return _detail_page(request, scope, webhook, outcome=outcome)
    sample = (
        payloads.SAMPLE_ENVIRONMENT_EVENT
        if webhook.environment_id is not None
        else payloads.SAMPLE_ORGANISATION_EVENT
    )
    outcome = services.webhook_test_send(url=webhook.url, secret=webhook.secret, sample=sample)
    return _detail_page(request, scope, webhook, outcome=outcome)
