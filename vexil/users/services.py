from __future__ import annotations

import secrets

from django.contrib.sites.models import Site
from django.db import transaction

from vexil.common.tasks import enqueue
from vexil.users import tasks
from vexil.users.models import SetupToken, User
from vexil.users.selectors import instance_is_initialised


class InstanceAlreadyInitialisedError(Exception):
    """The install already has a superuser; first-run set-up is closed."""


def setup_token_issue() -> str | None:
    """Issue a one-time setup token if the install is not set up yet; return it (shown once)."""
    if instance_is_initialised():
        SetupToken.objects.all().delete()
        return None
    token = secrets.token_urlsafe(24)
    SetupToken.objects.create(digest=SetupToken.digest_of(token))
    return token


@transaction.atomic
def instance_initialise(
    *,
    email: str,
    password: str,
    first_name: str = "",
    last_name: str = "",
    site_name: str = "",
    site_domain: str = "",
) -> User:
    """Create the first superuser and name the site; refuse once the install is set up.

    On commit, the new administrator is e-mailed that the install is ready.
    """
    # The site row doubles as the first-run mutex: two racing requests queue on its row lock, and
    # the second then sees the superuser the first created.
    Site.objects.select_for_update().filter(pk=1).first()
    if instance_is_initialised():
        raise InstanceAlreadyInitialisedError
    user = User.objects.create_superuser(
        email=email, password=password, first_name=first_name, last_name=last_name
    )
    if site_name or site_domain:
        site_update(name=site_name, domain=site_domain)
    SetupToken.objects.all().delete()
    enqueue(tasks.instance_initialised_email_send, user_id=user.pk)
    return user


def site_update(*, name: str, domain: str) -> Site:
    site, _ = Site.objects.get_or_create(pk=1, defaults={"domain": domain, "name": name})
    site.name = name or site.name
    site.domain = domain or site.domain
    site.save(update_fields=["name", "domain"])
    return site


def password_generate() -> str:
    return secrets.token_urlsafe(18)
