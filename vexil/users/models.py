from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.utils import timezone

from vexil.common.encryption import EncryptedTextField


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        if not email:
            raise ValueError("Users need an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self.create_user(email, password, **extra)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who signs in to the dashboard or the management API, identified by e-mail."""

    email = models.EmailField(unique=True)
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    class Meta:
        ordering = ("id",)

    def __str__(self) -> str:
        return self.email


class SetupToken(models.Model):
    """A one-time token, printed in the server log, that the first-run init page requires.

    Only the SHA-256 digest is stored. Each ``vexil serve`` start issues one while the install has
    no superuser; any unexpired one is accepted, and all are deleted once the install is set up.
    """

    LIFETIME = timedelta(hours=24)

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"setup token issued {self.created_at:%Y-%m-%d %H:%M}"

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()


class RateLimitBucket(models.Model):
    """One rate limit's state, shared by every process: GCRA's theoretical arrival time.

    A request at ``now`` is allowed while ``max(tat, now) + period / limit - period <= now``; the
    difference is the exact wait otherwise. One row per key, updated under a row lock.
    """

    key = models.CharField(max_length=255, primary_key=True)
    tat = models.FloatField(help_text="Unix time at which the bucket is empty again.")

    def __str__(self) -> str:
        return self.key


class LoginFailureCount(models.Model):
    """Failed logins for one e-mail address (an account or not), from any client address.

    After ``LOGIN_ACCOUNT_FREE_FAILURES`` failures, every further failure makes the next attempt
    wait twice as long as the one before (capped), instead of locking the account: a guesser
    spread over many addresses slows to a crawl, and the real user can still get in.
    """

    email = models.CharField(max_length=254, unique=True)
    failures = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.email}: {self.failures} failures"


class TOTPDevice(models.Model):
    """A user's authenticator app (TOTP, RFC 6238: 6 digits, 30 s, SHA-1, as every app reads).

    The secret must stay readable to check codes, so it is encrypted at rest under a key derived
    from ``SECRET_KEY`` (:mod:`vexil.common.encryption`); backup codes are stored as password
    hashes and shown once. ``last_step`` is the time step of the last accepted code: no code of that
    step or an earlier one is accepted again (no replay).
    """

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="totp_device")
    secret = EncryptedTextField(purpose="totp-secret")
    is_active = models.BooleanField(default=False)
    last_step = models.BigIntegerField(default=0)
    backup_codes = models.JSONField(default=list, help_text="Hashes of the unused backup codes.")
    created_at = models.DateTimeField(default=timezone.now)
    confirmed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"authenticator app of {self.user}"


class PendingSignUp(models.Model):
    """A sign-up waiting for its address to be confirmed by the e-mailed link.

    Sign-up answers the same whether or not the address has an account; the account is only made
    when the link (``/sign-up/confirm/<token>``) is followed. The password is kept as its hash,
    the token as its SHA-256 digest. A sign-up from an invite link keeps the link, to join its
    organisation on confirmation.
    """

    email = models.EmailField(db_index=True)
    password = models.CharField(max_length=128, help_text="The password's hash, never itself.")
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    sign_up_type = models.CharField(max_length=20, blank=True)
    invite_link = models.ForeignKey(
        "invites.InviteLink", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    token_digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"pending sign-up of {self.email}"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @staticmethod
    def digest_of(token: str) -> str:
        return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()
