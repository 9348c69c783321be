"""The members part of the organisation settings page: pending invites and invite links, for
those who may manage users (the API's rule). Shared by the settings page and the invite views."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest

from vexil.common.mail import public_base_url
from vexil.dashboard.forms.invites import InviteForm, InviteLinkForm
from vexil.invites.selectors import invite_links_of, invites_of
from vexil.invites.services import invite_url
from vexil.organisations.models import Organisation


def invites_context(
    request: HttpRequest,
    organisation: Organisation,
    *,
    invite_form: InviteForm | None = None,
    link_form: InviteLinkForm | None = None,
) -> dict[str, Any]:
    base_url = public_base_url(request)
    links = [(link, invite_url(link, base_url)) for link in invite_links_of(organisation)]
    return {
        "invites": list(invites_of(organisation)),
        "invite_form": invite_form or InviteForm(organisation_id=organisation.pk),
        "invite_links": links,
        "links_enabled": not settings.DISABLE_INVITE_LINKS,
        "link_form": link_form or InviteLinkForm(),
    }
