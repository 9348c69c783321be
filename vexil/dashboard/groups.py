"""An organisation's groups: create, rename, members in and out, delete with confirmation.

The management API's ``organisations/{id}/groups/`` rules and services: administrators
(MANAGE_USER_GROUPS) see and manage every group; other members see the groups they belong to.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from vexil.dashboard.forms.permissions import GroupForm, GroupMemberForm
from vexil.dashboard.forms.settings import DeleteConfirmForm
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.organisations import selectors, services
from vexil.organisations.models import Organisation, UserGroup
from vexil.permissions.keys import OrganisationPermission

MANAGE = [OrganisationPermission.MANAGE_USER_GROUPS]


def _organisation(scope: Scope) -> Organisation:
    assert scope.organisation is not None
    return scope.organisation


def _group(scope: Scope, group_id: int) -> UserGroup:
    group = (
        selectors.groups_visible_in(_organisation(scope), scope.user).filter(pk=group_id).first()
    )
    if group is None:
        raise Http404
    return group


def _to_group(scope: Scope, group: UserGroup) -> HttpResponse:
    return redirect("dashboard:group", _organisation(scope).pk, group.pk)


# --- The list -------------------------------------------------------------------------------------


def _list_page(
    request: HttpRequest, scope: Scope, form: GroupForm | None = None, *, status: int = 200
) -> HttpResponse:
    context = {
        "groups": list(selectors.groups_visible_in(_organisation(scope), scope.user)),
        "may_manage": scope.may(OrganisationPermission.MANAGE_USER_GROUPS),
        "form": form or GroupForm(),
    }
    return render_page(request, "dashboard/groups/list.html", scope, context, status=status)


@page()
def group_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _list_page(request, scope)


@page(methods=["POST"], write=MANAGE)
def group_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = GroupForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        group = services.user_group_create(
            organisation=_organisation(scope), name=data["name"], actor=scope.actor
        )
        return _to_group(scope, group)

    return submit(form, save, default="name") or _list_page(request, scope, form, status=400)


# --- One group ------------------------------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    scope: Scope,
    group: UserGroup,
    *,
    name_form: GroupForm | None = None,
    member_form: GroupMemberForm | None = None,
) -> HttpResponse:
    members = sorted(group.users.all(), key=lambda user: user.email)
    inside = {user.pk for user in members}
    outside = [
        m.user for m in selectors.members_of(_organisation(scope)) if m.user_id not in inside
    ]
    context = {
        "group": group,
        "members": members,
        "may_manage": scope.may(OrganisationPermission.MANAGE_USER_GROUPS),
        "name_form": name_form or GroupForm(initial={"name": group.name}, prefix="group"),
        "member_form": member_form or GroupMemberForm(users=outside, prefix="member"),
    }
    status = 400 if name_form or member_form else 200
    return render_page(request, "dashboard/groups/detail.html", scope, context, status=status)


@page()
def group_detail(request: HttpRequest, scope: Scope, group_id: int) -> HttpResponse:
    return _detail_page(request, scope, _group(scope, group_id))


@page(methods=["POST"], write=MANAGE)
def group_rename(request: HttpRequest, scope: Scope, group_id: int) -> HttpResponse:
    group = _group(scope, group_id)
    form = GroupForm(request.POST, prefix="group")

    def save(data: dict[str, Any]) -> HttpResponse:
        services.user_group_update(group=group, actor=scope.actor, name=data["name"])
        return _to_group(scope, group)

    return submit(form, save, default="name") or _detail_page(request, scope, group, name_form=form)


@page(methods=["POST"], write=MANAGE)
def group_member_add(request: HttpRequest, scope: Scope, group_id: int) -> HttpResponse:
    group = _group(scope, group_id)
    members = [m.user for m in selectors.members_of(_organisation(scope))]
    form = GroupMemberForm(request.POST, users=members, prefix="member")

    def save(data: dict[str, Any]) -> HttpResponse:
        services.user_group_users_add(group=group, user_ids=[data["user"]], actor=scope.actor)
        return _to_group(scope, group)

    return submit(form, save, default="user") or _detail_page(
        request, scope, group, member_form=form
    )


@page(methods=["POST"], write=MANAGE)
def group_member_remove(
    request: HttpRequest, scope: Scope, group_id: int, user_id: int
) -> HttpResponse:
    group = _group(scope, group_id)
    services.user_group_users_remove(group=group, user_ids=[user_id], actor=scope.actor)
    return _to_group(scope, group)


@page(methods=["GET", "POST"], read=MANAGE)
def group_delete(request: HttpRequest, scope: Scope, group_id: int) -> HttpResponse:
    group = _group(scope, group_id)
    form = DeleteConfirmForm(request.POST or None, expected=group.name)
    if request.method == "POST" and form.is_valid():
        services.user_group_delete(group=group, actor=scope.actor)
        return redirect("dashboard:groups", _organisation(scope).pk)
    status = 400 if request.method == "POST" else 200
    context = {"group": group, "form": form}
    return render_page(request, "dashboard/groups/delete.html", scope, context, status=status)
