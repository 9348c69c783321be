"""The password backend, with a growing delay per account on top of Django's ModelBackend."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from vexil.users.limits import login_delay_remaining, login_failure_record, login_failures_clear

RETRY_AFTER_ATTRIBUTE = "vexil_login_retry_after"
# The backend a session signed in with password records (``login(..., backend=...)``).
SESSION_BACKEND = "vexil.users.backends.DelayedModelBackend"


class AccountDelayError(PermissionDenied):
    """This account must wait before the next login attempt; the password was not checked."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"Too many failed logins for this account; retry in {retry_after:.0f}s.")
        self.retry_after = retry_after


class DelayedModelBackend(ModelBackend):
    """Every way in (API login, Django admin) checks the account's delay before the password,
    counts a failure when the password is wrong, and clears the count on success."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        email = username if username is not None else kwargs.get("email")
        if email is None or password is None:
            return None
        remaining = login_delay_remaining(email=email)
        if remaining > 0:
            if request is not None:
                setattr(request, RETRY_AFTER_ATTRIBUTE, remaining)
            raise AccountDelayError(remaining)
        user = super().authenticate(request, username=email, password=password)
        if user is None:
            login_failure_record(email=email)
        else:
            login_failures_clear(email=email)
        return user
