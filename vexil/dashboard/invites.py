"""Invites in the dashboard: invite people and make invite links (organisation settings), and
the page an invite's link opens (``/invite/<hash>``, ``/invite-link/<hash>``), where the
invitee signs in or signs up and joins. Every change goes through ``vexil.invites.services``,
under the API's rule (MANAGE_USERS); joining under the invite's own rules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from vexil.dashboard.auth import sign_up_check_email_page
from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.auth import SignUpForm
from vexil.dashboard.forms.invites import InviteForm, InviteLinkForm
from vexil.dashboard.organisation_settings import settings_page
from vexil.dashboard.page import page
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.invites import selectors, services
from vexil.invites.models import Invite, InviteLink
from vexil.organisations.models import Organisation
from vexil.permissions.keys import OrganisationPermission
from vexil.users import services as user_services
from vexil.users.backends import SESSION_BACKEND
from vexil.users.models import User
from vexil.users.selectors import password_sign_up_open
from vexil.users.throttles import auth_attempt_allowed

MANAGE = [OrganisationPermission.MANAGE_USERS]
_TOO_MANY = "Too many attempts from this address. Please wait a minute and try again."


def _organisation(scope: Scope) -> Organisation:
    assert scope.organisation is not None
    return scope.organisation


def _to_members(scope: Scope) -> HttpResponse:
    url = reverse("dashboard:organisation-settings", args=[_organisation(scope).pk])
    return redirect(f"{url}#invites-heading")


def _refusal(error: Exception) -> ValidationError:
    if isinstance(error, services.InviteRefusedError):
        return ValidationError(error.message)
    assert isinstance(error, ValidationError)
    return error


@page(methods=["POST"], write=MANAGE)
def invite_create(request: HttpRequest, scope: Scope) -> HttpResponse:
    organisation = _organisation(scope)
    form = InviteForm(request.POST, organisation_id=organisation.pk)
    if form.is_valid():
        groups = [group.pk for group in form.cleaned_data.get("groups") or ()]
        wanted = [
            services.InviteRequest(email, form.cleaned_data["role"], groups)
            for email in form.cleaned_data["emails"]
        ]
        try:
            services.invites_create(
                organisation=organisation,
                invites=wanted,
                invited_by=scope.user if isinstance(scope.user, User) else None,
                actor=scope.actor,
                request=request,
            )
        except (services.InviteRefusedError, ValidationError) as error:
            add_service_errors(form, _refusal(error), default="emails")
        else:
            return _to_members(scope)
    return settings_page(request, scope, invite_forms={"invite_form": form}, status=400)


def _invite(scope: Scope, invite_id: int) -> Invite:
    invite = selectors.invites_of(_organisation(scope)).filter(pk=invite_id).first()
    if invite is None:
        raise Http404
    return invite


@page(methods=["POST"], write=MANAGE)
def invite_resend(request: HttpRequest, scope: Scope, invite_id: int) -> HttpResponse:
    services.invite_resend(invite=_invite(scope, invite_id), actor=scope.actor, request=request)
    return _to_members(scope)


@page(methods=["POST"], write=MANAGE)
def invite_revoke(request: HttpRequest, scope: Scope, invite_id: int) -> HttpResponse:
    services.invite_delete(invite=_invite(scope, invite_id), actor=scope.actor)
    return _to_members(scope)


@page(methods=["POST"], write=MANAGE)
def invite_link_create(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = InviteLinkForm(request.POST)
    if form.is_valid():
        days = form.cleaned_data["expires_in_days"]
        try:
            services.invite_link_create(
                organisation=_organisation(scope),
                role=form.cleaned_data["role"],
                expires_at=timezone.now() + timedelta(days=days) if days else None,
                actor=scope.actor,
            )
        except (services.InviteRefusedError, ValidationError) as error:
            add_service_errors(form, _refusal(error), default=None)
        else:
            return _to_members(scope)
    return settings_page(request, scope, invite_forms={"link_form": form}, status=400)


@page(methods=["POST"], write=MANAGE)
def invite_link_delete(request: HttpRequest, scope: Scope, link_id: int) -> HttpResponse:
    link = selectors.invite_links_of(_organisation(scope)).filter(pk=link_id).first()
    if link is None:
        raise Http404
    services.invite_link_delete(link=link, actor=scope.actor)
    return _to_members(scope)


# --- The page an invite's link opens ---------------------------------------------------------


def _invitation(request: HttpRequest, invite_hash: str) -> Invite | InviteLink:
    """The invite or link behind the hash, or 404; a request naming nothing counts against
    the client's auth budget, so hashes cannot be guessed at speed."""
    found: Invite | InviteLink | None = selectors.invite_link_for_hash(invite_hash)
    if found is None or settings.DISABLE_INVITE_LINKS:
        found = selectors.invite_for_hash(invite_hash)
    if found is None:
        auth_attempt_allowed(request)
        raise Http404
    return found


def _accept_page(
    request: HttpRequest,
    invitation: Invite | InviteLink,
    *,
    error: str = "",
    form: SignUpForm | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user if isinstance(request.user, User) else None
    email = invitation.email if isinstance(invitation, Invite) else ""
    context: dict[str, Any] = {
        "invitation": invitation,
        "organisation": invitation.organisation,
        "invited_email": email,
        "signed_in_user": user,
        "error": error or _blocking_error(invitation, user),
        "sign_up_open": password_sign_up_open(),
        "sso_only": settings.PREVENT_EMAIL_PASSWORD,
        "form": form or SignUpForm(initial={"email": email}),
        "next": request.path,
    }
    return render_page(request, "dashboard/invites/accept.html", None, context, status=status)


def _blocking_error(invitation: Invite | InviteLink, user: User | None) -> str:
    if invitation.is_expired:
        return "This invitation has expired. Ask for a new one."
    if isinstance(invitation, InviteLink) and settings.DISABLE_INVITE_LINKS:
        return "Invite links are disabled."
    if user is not None and isinstance(invitation, Invite) and invitation.email != user.email:
        return (
            f"This invitation is for {invitation.email}, and you are signed in as {user.email}. "
            "Sign out and sign in (or sign up) with the invited address."
        )
    return ""


@require_http_methods(["GET", "POST"])
def invite_accept(request: HttpRequest, invite_hash: str) -> HttpResponse:
    """GET shows the invitation; POST (signed in) joins."""
    invitation = _invitation(request, invite_hash)
    if request.method == "GET":
        return _accept_page(request, invitation)
    if not isinstance(request.user, User):
        return redirect(f"{reverse('dashboard:sign-in')}?next={request.path}")
    if not auth_attempt_allowed(request):
        return _accept_page(request, invitation, error=_TOO_MANY, status=429)
    return _join(request, request.user, invitation, invite_hash)


def _join(
    request: HttpRequest, user: User, invitation: Invite | InviteLink, invite_hash: str
) -> HttpResponse:
    organisation_id = invitation.organisation_id
    try:
        services.invite_accept_any(user=user, invite_hash=invite_hash)
    except services.InviteNotFoundError:
        raise Http404 from None
    except services.InviteRefusedError as error:
        return _accept_page(request, invitation, error=error.message, status=400)
    return redirect("dashboard:organisation", organisation_id)


@require_http_methods(["POST"])
def invite_sign_up(request: HttpRequest, invite_hash: str) -> HttpResponse:
    """Sign up from the invitation (even while registration without an invite is closed). An
    e-mail invite's own address is proven by its hash: the account is made, signed in and joins
    in one step. Otherwise (an invite link) the answer is "check your e-mail", whatever the
    address, and the e-mailed link makes the account and joins."""
    invitation = _invitation(request, invite_hash)
    form = SignUpForm(request.POST)
    if not form.is_valid():
        return _accept_page(request, invitation, form=form, status=400)
    if not auth_attempt_allowed(request):
        form.add_error(None, _TOO_MANY)
        return _accept_page(request, invitation, form=form, status=429)
    kind = "INVITE_LINK" if isinstance(invitation, InviteLink) else "INVITE_EMAIL"
    try:
        user = user_services.user_sign_up_start(
            **form.cleaned_data, sign_up_type=kind, invite_hash=invite_hash, request=request
        )
    except ValidationError as error:
        add_service_errors(form, error, default="password")
        return _accept_page(request, invitation, form=form, status=400)
    except user_services.RegistrationClosedError:
        form.add_error(None, _closed_message(invitation))
        return _accept_page(request, invitation, form=form, status=403)
    if user is None:  # an invite link: the e-mailed link makes the account and joins
        return sign_up_check_email_page(request)
    login(request, user, backend=SESSION_BACKEND)
    return _join(request, user, invitation, invite_hash)


def _closed_message(invitation: Invite | InviteLink) -> str:
    if settings.PREVENT_EMAIL_PASSWORD and not settings.PREVENT_SIGNUP:
        return user_services.PasswordSignUpPreventedError.message
    if settings.PREVENT_SIGNUP:
        return "Sign-up is disabled on this installation: sign in with an existing account."
    if isinstance(invitation, Invite):
        return f"This invitation is for {invitation.email}: sign up with that address."
    return "This invitation cannot be used to sign up."
