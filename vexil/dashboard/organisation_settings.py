"""Organisation settings: members and their roles, master API keys (created and shown once,
revoked), the settings that change what SDKs get, and deletion with confirmation.

Members are listed to those who may manage users (MANAGE_USERS), keys to those who may manage
them (MANAGE_API_KEYS), settings and deletion to administrators: the management API's rules.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vexil.api_keys.selectors import master_api_keys_of
from vexil.api_keys.services import master_api_key_create, master_api_key_revoke
from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.settings import (
    DeleteConfirmForm,
    MasterKeyForm,
    MemberRoleForm,
    OrganisationSettingsForm,
)
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, organisation_scope
from vexil.organisations import services
from vexil.organisations.models import Organisation, OrganisationRole
from vexil.organisations.selectors import members_of
from vexil.permissions import selectors as permissions
from vexil.permissions.keys import OrganisationPermission


def _organisation(scope: Scope) -> Organisation:
    assert scope.organisation is not None
    return scope.organisation


def _is_admin(scope: Scope) -> bool:
    return permissions.is_organisation_admin(scope.user, _organisation(scope).pk)


def _require(allowed: bool) -> None:
    if not allowed:
        raise PermissionDenied


def _page(
    request: HttpRequest,
    scope: Scope,
    *,
    form: OrganisationSettingsForm | None = None,
    key_form: MasterKeyForm | None = None,
    new_key: str | None = None,
    role_errors: dict[int, MemberRoleForm] | None = None,
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
    response = render_page(
        request, "dashboard/settings/organisation.html", scope, context, status=status
    )
    if new_key is not None:
        response["Cache-Control"] = "no-store"
    return response


@login_required
@require_GET
def organisation_settings(request: HttpRequest, organisation_id: int) -> HttpResponse:
    return _page(request, organisation_scope(request, organisation_id))


@login_required
@require_POST
def organisation_settings_save(request: HttpRequest, organisation_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    _require(_is_admin(scope))
    form = OrganisationSettingsForm(request.POST)
    if form.is_valid():
        try:
            services.organisation_update(
                organisation=_organisation(scope), actor=scope.actor, **form.cleaned_data
            )
        except ValidationError as error:
            add_service_errors(form, error, default=None)
        else:
            return redirect("dashboard:organisation-settings", organisation_id)
    return _page(request, scope, form=form, status=400)


@login_required
@require_POST
def member_role(request: HttpRequest, organisation_id: int, membership_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    _require(scope.may(OrganisationPermission.MANAGE_USERS))
    membership = members_of(_organisation(scope)).filter(pk=membership_id).first()
    if membership is None:
        raise Http404
    form = MemberRoleForm(
        request.POST, prefix=f"member-{membership.pk}", label=f"Role of {membership.user.email}"
    )
    if form.is_valid():
        try:
            services.organisation_member_role_update(
                membership=membership,
                role=OrganisationRole(form.cleaned_data["role"]),
                actor=scope.actor,
            )
        except ValidationError as error:
            add_service_errors(form, error, default="role")
        else:
            return redirect("dashboard:organisation-settings", organisation_id)
    return _page(request, scope, role_errors={membership.pk: form}, status=400)


@login_required
@require_POST
@never_cache
def master_key_create(request: HttpRequest, organisation_id: int) -> HttpResponse:
    """The new key is in this response only: it is stored hashed and never shown again."""
    scope = organisation_scope(request, organisation_id)
    _require(scope.may(OrganisationPermission.MANAGE_API_KEYS))
    form = MasterKeyForm(request.POST)
    if not form.is_valid():
        return _page(request, scope, key_form=form, status=400)
    _, plaintext = master_api_key_create(
        organisation=_organisation(scope),
        name=form.cleaned_data["name"],
        is_admin=form.cleaned_data["is_admin"],
        actor=scope.actor,
    )
    return _page(request, scope, new_key=plaintext, status=201)


@login_required
@require_POST
def master_key_revoke(request: HttpRequest, organisation_id: int, key_id: str) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    _require(scope.may(OrganisationPermission.MANAGE_API_KEYS))
    key = master_api_keys_of(organisation_id).filter(pk=key_id).first()
    if key is None:
        raise Http404
    master_api_key_revoke(key=key, actor=scope.actor)
    return redirect("dashboard:organisation-settings", organisation_id)


@login_required
@require_http_methods(["GET", "POST"])
def organisation_delete(request: HttpRequest, organisation_id: int) -> HttpResponse:
    scope = organisation_scope(request, organisation_id)
    _require(_is_admin(scope))
    organisation = _organisation(scope)
    form = DeleteConfirmForm(request.POST or None, expected=organisation.name)
    if request.method == "POST" and form.is_valid():
        services.organisation_delete(organisation=organisation, actor=scope.actor)
        return redirect("dashboard:home")
    status = 400 if request.method == "POST" else 200
    return render_page(
        request, "dashboard/settings/organisation_delete.html", scope, {"form": form}, status=status
    )
