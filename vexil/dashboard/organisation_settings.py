"""Organisation settings: members and their roles, master API keys (created and shown once,
revoked), the settings that change what SDKs get, and deletion with confirmation.

Members are listed to those who may manage users (MANAGE_USERS), keys to those who may manage
them (MANAGE_API_KEYS), settings, the organisation-level Grafana integration and deletion to
administrators: the management API's rules. The Grafana form posts to the integrations' own
create view (``vexil.dashboard.webhooks``), whose page then edits, tests and deletes it.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.cache import never_cache

from vexil.api_keys.selectors import master_api_keys_of
from vexil.api_keys.services import master_api_key_create, master_api_key_revoke
from vexil.dashboard.forms.settings import (
    DeleteConfirmForm,
    MasterKeyForm,
    MemberRoleForm,
    OrganisationSettingsForm,
)
from vexil.dashboard.forms.webhooks import GrafanaForm
from vexil.dashboard.invite_panels import invites_context
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.organisations import services
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.selectors import members_of
from vexil.permissions import selectors as permissions
from vexil.permissions.keys import OrganisationPermission
from vexil.users.selectors import organisation_emails
from vexil.webhooks.models import DestinationKind
from vexil.webhooks.selectors import integrations_of_organisation

#: How many of the organisation's latest e-mails the settings page lists (all: the API).
RECENT_EMAILS = 20


def _organisation(scope: Scope) -> Organisation:
    assert scope.organisation is not None
    return scope.organisation


def _is_admin(scope: Scope) -> bool:
    return permissions.is_organisation_admin(scope.user, _organisation(scope).pk)


def settings_page(
    request: HttpRequest,
    scope: Scope,
    *,
    form: OrganisationSettingsForm | None = None,
    key_form: MasterKeyForm | None = None,
    new_key: str | None = None,
    role_errors: dict[int, MemberRoleForm] | None = None,
    invite_forms: dict[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    organisation = _organisation(scope)
    may_users = scope.may(OrganisationPermission.MANAGE_USERS)
    may_keys = scope.may(OrganisationPermission.MANAGE_API_KEYS)
    is_admin = _is_admin(scope)
    if not (may_users or may_keys or is_admin):
        raise PermissionDenied
    context: dict[str, Any] = {"may_users": may_users, "may_keys": may_keys, "is_admin": is_admin}
    if may_users:
        context["members"] = [
            (
                membership,
                (role_errors or {}).get(membership.pk)
                or MemberRoleForm(
                    prefix=f"member-{membership.pk}",
                    label=f"Role of {membership.user.email}",
                    initial={"role": membership.role},
                ),
            )
            for membership in members_of(organisation)
        ]
        context.update(invites_context(request, organisation, **(invite_forms or {})))
    if may_keys:
        context.update(
            keys=list(master_api_keys_of(organisation.pk).order_by("-id")),
            key_form=key_form or MasterKeyForm(),
            new_key=new_key,
        )
    if is_admin:
        context["form"] = form or OrganisationSettingsForm(
            initial=OrganisationSettingsForm.initial_of(organisation)
        )
        # The API's rule (organisations/{id}/emails/): its administrators see its outbox.
        outbox = organisation_emails(organisation_id=organisation.pk)
        context["emails"] = list(outbox.defer("body_text", "body_html")[:RECENT_EMAILS])
        context.update(_grafana_context(organisation))
    response = render_page(
        request, "dashboard/settings/organisation.html", scope, context, status=status
    )
    if new_key is not None:
        response["Cache-Control"] = "no-store"
    return response


def _grafana_context(organisation: Organisation) -> dict[str, Any]:
    """The organisation's own Grafana integration (its key never shown), or the form to add it."""
    grafana = integrations_of_organisation(organisation).filter(kind=DestinationKind.GRAFANA)
    row = grafana.first()
    if row is not None:
        page_url = reverse("dashboard:organisation-webhook", args=[organisation.pk, row.pk])
        return {"grafana": row, "grafana_url": page_url}
    action = reverse("dashboard:organisation-integration-create", args=[organisation.pk, "grafana"])
    return {"grafana_form": GrafanaForm(prefix="grafana"), "grafana_action": action}


def _to_settings(scope: Scope) -> HttpResponse:
    return redirect("dashboard:organisation-settings", _organisation(scope).pk)


@page()
def organisation_settings(request: HttpRequest, scope: Scope) -> HttpResponse:
    return settings_page(request, scope)


@page(methods=["POST"], write=[_is_admin])
def organisation_settings_save(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = OrganisationSettingsForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        services.organisation_update(organisation=_organisation(scope), actor=scope.actor, **data)
        return _to_settings(scope)

    return submit(form, save) or settings_page(request, scope, form=form, status=400)


@page(methods=["POST"], write=[OrganisationPermission.MANAGE_USERS])
def member_role(request: HttpRequest, scope: Scope, membership_id: int) -> HttpResponse:
    membership = members_of(_organisation(scope)).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    form = MemberRoleForm(
        request.POST, prefix=f"member-{membership.pk}", label=f"Role of {membership.user.email}"
    )

    def save(data: dict[str, Any]) -> HttpResponse:
        services.organisation_member_role_update(
            membership=membership, role=OrganisationRole(data["role"]), actor=scope.actor
        )
        return _to_settings(scope)

    return submit(form, save, default="role") or settings_page(
        request, scope, role_errors={membership.pk: form}, status=400
    )


@never_cache
@page(methods=["POST"], write=[OrganisationPermission.MANAGE_API_KEYS])
def master_key_create(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The new key is in this response only: it is stored hashed and never shown again."""
    form = MasterKeyForm(request.POST)
    if not form.is_valid():
        return settings_page(request, scope, key_form=form, status=400)
    _, plaintext = master_api_key_create(
        organisation=_organisation(scope),
        name=form.cleaned_data["name"],
        is_admin=form.cleaned_data["is_admin"],
        actor=scope.actor,
    )
    return settings_page(request, scope, new_key=plaintext, status=201)


@page(methods=["POST"], write=[OrganisationPermission.MANAGE_API_KEYS])
def master_key_revoke(request: HttpRequest, scope: Scope, key_id: str) -> HttpResponse:
    key = master_api_keys_of(_organisation(scope).pk).filter(pk=key_id).first()
    if key is None:
        raise Http404
    master_api_key_revoke(key=key, actor=scope.actor)
    return _to_settings(scope)


@page(methods=["GET", "POST"], read=[_is_admin])
def organisation_delete(request: HttpRequest, scope: Scope) -> HttpResponse:
    organisation = _organisation(scope)
    form = DeleteConfirmForm(request.POST or None, expected=organisation.name)
    if request.method == "POST" and form.is_valid():
        services.organisation_delete(organisation=organisation, actor=scope.actor)
        return redirect("dashboard:home")
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/settings/organisation_delete.html", scope, {"form": form}, status=status
    )
