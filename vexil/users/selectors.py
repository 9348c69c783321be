from __future__ import annotations

from django.utils import timezone

from vexil.users.models import SetupToken, User


def instance_is_initialised() -> bool:
    """An install is set up once it has a superuser."""
    return User.objects.filter(is_superuser=True).exists()


def setup_token_is_valid(token: str) -> bool:
    if not token:
        return False
    oldest_accepted = timezone.now() - SetupToken.LIFETIME
    return SetupToken.objects.filter(
        digest=SetupToken.digest_of(token), created_at__gte=oldest_accepted
    ).exists()
