"""E-mail as a subsystem: render, record in the outbox, send in the background, retry.

Every message is multipart (plain text and HTML, both rendered from templates), its links built
from one public base URL (:func:`public_base_url`). :func:`email_queue` writes the outbox row and
enqueues delivery for when the transaction commits; :func:`email_deliver` sends with retries and
backoff. A message the server accepted is marked ``sent`` before anything else can fail, and a
retry only ever picks up a row still ``queued``, so nothing is delivered twice by Vexil; a stable
``Message-ID`` per row lets receivers drop a copy the network might still duplicate.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sites.models import Site
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.mail.backends.console import EmailBackend as DjangoConsoleBackend
from django.db import connections
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone

from vexil.celery import app
from vexil.common.models import OutboundEmail
from vexil.common.tasks import enqueue

logger = logging.getLogger(__name__)


class ConsoleEmailBackend(DjangoConsoleBackend):
    """Django's console backend, writing to stderr with the logs.

    The default when no SMTP server is configured. Django's own writes to stdout, which would
    break commands whose stdout is machine-read (``vexil bootstrap --json`` sends the set-up
    e-mail).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("stream", sys.stderr)
        super().__init__(*args, **kwargs)


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
_PLACEHOLDER_DOMAIN = "example.com"  # what django.contrib.sites creates; never a real install


def public_base_url(request: HttpRequest | None = None) -> str:
    """The base URL of every link Vexil puts in an e-mail, without a trailing slash.

    In order: ``VEXIL_PUBLIC_URL`` (or Flagsmith's ``FLAGSMITH_DOMAIN``); the site's domain when
    someone set it (the first-run form, Django's admin: Flagsmith's fallback too); the host the
    request came in on; on the command line, ``http://localhost:<VEXIL_PORT>``.
    """
    if settings.PUBLIC_URL:
        return str(settings.PUBLIC_URL)
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    if site is not None and site.domain and site.domain != _PLACEHOLDER_DOMAIN:
        return site_base_url(site.domain)
    if request is not None:
        return request.build_absolute_uri("/").rstrip("/")
    return f"http://localhost:{settings.SERVE_PORT}"


def site_base_url(domain: str) -> str:
    """A bare domain as a base URL: plain HTTP for a loopback host, HTTPS for anything else."""
    scheme = "http" if urlsplit(f"//{domain}").hostname in _LOOPBACK_HOSTS else "https"
    return f"{scheme}://{domain}"


def install_name(base_url: str) -> str:
    """How e-mails name this install: the site's name unless it is Django's placeholder."""
    site = Site.objects.filter(pk=settings.SITE_ID).first()
    if site is not None and site.name and site.name != _PLACEHOLDER_DOMAIN:
        return site.name
    return urlsplit(base_url).netloc or "Vexil"


def email_queue(
    *,
    kind: str,
    recipient: str,
    subject: str,
    template: str,
    context: dict[str, Any],
    base_url: str,
    organisation_id: int | None = None,
) -> OutboundEmail:
    """Render ``template``.txt and .html, record the message, and send it after commit."""
    context = {**context, "base_url": base_url, "install_name": install_name(base_url)}
    email = OutboundEmail.objects.create(
        kind=kind,
        recipient=recipient,
        from_email=settings.DEFAULT_FROM_EMAIL,
        subject=subject,
        body_text=render_to_string(f"{template}.txt", context).strip() + "\n",
        body_html=render_to_string(f"{template}.html", context),
        organisation_id=organisation_id,
    )
    enqueue(email_deliver_task, email_id=email.pk)
    return email


def email_deliver(*, email_id: int) -> OutboundEmail | None:
    """Send one outbox message, retrying with backoff; leave it ``sent`` or ``failed``."""
    for attempt in range(settings.EMAIL_MAX_ATTEMPTS):
        if attempt:
            time.sleep(settings.EMAIL_RETRY_BACKOFF_SECONDS * 2 ** (attempt - 1))
        email = _claim(email_id)
        if email is None:  # sent, failed for good, or another worker is on it
            return OutboundEmail.objects.filter(pk=email_id).first()
        error = _send_once(email)
        if error is None:
            return email
        _record_failure(email, error)
    return OutboundEmail.objects.filter(pk=email_id).first()


def _claim(email_id: int) -> OutboundEmail | None:
    claimed = OutboundEmail.objects.filter(pk=email_id, status=OutboundEmail.Status.QUEUED).update(
        status=OutboundEmail.Status.SENDING, updated_at=timezone.now()
    )
    return OutboundEmail.objects.get(pk=email_id) if claimed else None


def _send_once(email: OutboundEmail) -> str | None:
    """One attempt; the error's text, or None once the server accepted the message."""
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=email.body_text,
        from_email=email.from_email,
        to=[email.recipient],
        headers={"Message-ID": f"<{email.uuid}@vexil>"},
    )
    message.attach_alternative(email.body_html, "text/html")
    connection = get_connection(fail_silently=False)
    try:
        connection.open()  # opened here, so that send_messages does not close it (and fail)
        sent = connection.send_messages([message])
    except Exception as error:
        return f"{type(error).__name__}: {error}"[:2000]
    if not sent:
        return "the backend did not send the message"
    now = timezone.now()
    OutboundEmail.objects.filter(pk=email.pk).update(
        status=OutboundEmail.Status.SENT, attempts=email.attempts + 1, sent_at=now, updated_at=now
    )
    _close_quietly(connection)
    return None


def _close_quietly(connection: Any) -> None:
    try:
        connection.close()
    except Exception:  # the message is already accepted; a failed QUIT changes nothing
        logger.warning("Closing the e-mail connection failed", exc_info=True)


def _record_failure(
    email: OutboundEmail, error: str, expected: str = OutboundEmail.Status.SENDING
) -> None:
    attempts = email.attempts + 1
    final = attempts >= settings.EMAIL_MAX_ATTEMPTS
    status = OutboundEmail.Status.FAILED if final else OutboundEmail.Status.QUEUED
    OutboundEmail.objects.filter(pk=email.pk, status=expected).update(
        status=status, attempts=attempts, last_error=error, updated_at=timezone.now()
    )
    log = logger.error if final else logger.warning
    log("E-mail %s (%s) attempt %d failed: %s", email.pk, email.kind, attempts, error)


@app.task(name="vexil.common.mail.email_deliver")
def email_deliver_task(*, email_id: int) -> None:
    email_deliver(email_id=email_id)


# --- Nothing lost in a crash ---------------------------------------------------------------------

INTERRUPTED = "Interrupted: the process sending it stopped; sent again with the same Message-ID."


def email_stale_after() -> timedelta:
    """How long a message may sit ``queued`` or ``sending`` before the sweep takes it: well
    beyond one attempt (each network step has ``EMAIL_TIMEOUT``) and the longest backoff."""
    backoff = settings.EMAIL_RETRY_BACKOFF_SECONDS * 2 ** max(settings.EMAIL_MAX_ATTEMPTS - 2, 0)
    return timedelta(seconds=max(60.0, 6 * settings.EMAIL_TIMEOUT, 2 * backoff))


def email_outbox_sweep() -> list[int]:
    """Deliver what a crash left behind; the ids handed to delivery again.

    A ``sending`` row older than :func:`email_stale_after` lost its process mid-attempt: it
    goes back to ``queued`` with that attempt counted. A ``queued`` row that old has no task
    (its process died before or between attempts). Each is enqueued again; the claim in
    :func:`email_deliver` keeps two sweeps from sending one message twice. A message whose
    server accepted it just before the crash may arrive a second time, with the same
    ``Message-ID``, so receivers can drop it: at least once, never silently lost.
    """
    cutoff = timezone.now() - email_stale_after()
    queued = OutboundEmail.objects.filter(status=OutboundEmail.Status.QUEUED, updated_at__lt=cutoff)
    ids = list(queued.values_list("id", flat=True))
    stuck = OutboundEmail.objects.filter(status=OutboundEmail.Status.SENDING, updated_at__lt=cutoff)
    for email in stuck:
        _record_failure(email, INTERRUPTED, expected=OutboundEmail.Status.SENDING)
        ids.append(email.pk)
    ids.sort()
    for email_id in ids:
        enqueue(email_deliver_task, email_id=email_id)
    if ids:
        logger.warning("Resuming %d e-mail(s) left queued or half-sent", len(ids))
    return ids


@app.task(name="vexil.common.mail.email_outbox_sweep")
def email_outbox_sweep_task() -> None:
    email_outbox_sweep()


_sweeper: threading.Thread | None = None
_sweeper_lock = threading.Lock()


def email_outbox_sweeper_start() -> None:
    """Sweep now, then every ``EMAIL_OUTBOX_SWEEP_SECONDS``, on a daemon thread (once per
    process; 0 turns it off)."""
    global _sweeper
    interval = settings.EMAIL_OUTBOX_SWEEP_SECONDS
    with _sweeper_lock:
        if interval <= 0 or (_sweeper is not None and _sweeper.is_alive()):
            return
        _sweeper = threading.Thread(
            target=_sweep_forever, args=(interval,), name="vexil-email-sweep", daemon=True
        )
        _sweeper.start()


def _sweep_forever(interval: float) -> None:
    while True:
        try:
            email_outbox_sweep()
        except Exception:
            logger.exception("E-mail outbox sweep failed")
        finally:
            connections.close_all()
        time.sleep(interval)
