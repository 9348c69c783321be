"""Background tasks of the users app. Enqueue them with :func:`vexil.common.tasks.enqueue`."""

from __future__ import annotations

import logging

from django.contrib.sites.models import Site
from django.core.mail import send_mail
from django.template.loader import render_to_string

from vexil.celery import app
from vexil.users.selectors import site_url, user_get

logger = logging.getLogger(__name__)

INSTANCE_INITIALISED_SUBJECT = "Your Vexil install is set up"


@app.task
def instance_initialised_email_send(*, user_id: int) -> None:
    """Tell the first administrator that the install is set up, and where to sign in."""
    user = user_get(user_id=user_id)
    if user is None:
        logger.warning("Set-up e-mail not sent: user %s no longer exists", user_id)
        return
    site = Site.objects.get_current()
    context = {"user": user, "site": site, "site_url": site_url(site)}
    send_mail(
        subject=INSTANCE_INITIALISED_SUBJECT,
        message=render_to_string("users/emails/instance_initialised.txt", context),
        from_email=None,
        recipient_list=[user.email],
    )
