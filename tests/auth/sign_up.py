"""Signing up for tests: sign-up answers "check your e-mail", and the account is only made when
the e-mailed link's token is confirmed. These helpers read the link from the outbox row (the
message as it is sent) and confirm it, as the mailbox owner would."""

from __future__ import annotations

import re
from typing import Any

from rest_framework.test import APIClient

from vexil.common.models import OutboundEmail

REGISTER = "/api/v1/auth/users/"
CONFIRM = "/api/v1/auth/users/confirm/"
CONFIRM_LINK = re.compile(r"https?://[^\s/]+/sign-up/confirm/(?P<token>[\w-]+)")
CHECK_EMAIL = {"detail": "Check your e-mail to finish signing up."}


def confirmation_token(email: str) -> str:
    """The token of the latest confirmation link e-mailed to ``email``."""
    message = OutboundEmail.objects.filter(kind="sign_up_confirm", recipient=email.lower()).latest(
        "id"
    )
    match = CONFIRM_LINK.search(message.body_text)
    assert match is not None, message.body_text
    return match["token"]


def sign_up_and_confirm(body: dict[str, Any], client: APIClient | None = None) -> str:
    """Sign up by the API, confirm the e-mailed token, and return the new account's API token."""
    signed = (client or APIClient()).post(REGISTER, body, format="json")
    assert (signed.status_code, signed.json()) == (201, CHECK_EMAIL), signed.content
    token = confirmation_token(body["email"])
    confirmed = APIClient().post(CONFIRM, {"token": token}, format="json")
    assert confirmed.status_code == 201, confirmed.content
    return str(confirmed.json()["key"])
