from __future__ import annotations

from urllib.parse import urlsplit

from django.contrib.sites.models import Site
from django.utils import timezone

from vexil.organisations.models import OrganisationMembership, OrganisationRole
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


def organisations_only_administered_by(user: User) -> list[str]:
    """Names of organisations with other members where ``user`` is the only administrator."""
    admin_of = OrganisationMembership.objects.filter(user=user, role=OrganisationRole.ADMIN)
    stranded = []
    for membership in admin_of.select_related("organisation"):
        others = OrganisationMembership.objects.filter(
            organisation_id=membership.organisation_id
        ).exclude(user=user)
        if others.exists() and not others.filter(role=OrganisationRole.ADMIN).exists():
            stranded.append(membership.organisation.name)
    return stranded


def user_get(*, user_id: int) -> User | None:
    return User.objects.filter(pk=user_id).first()


_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


def site_url(site: Site) -> str:
    """The site's base URL, without a trailing slash.

    The Sites framework stores only a domain; a loopback domain is a local install served over
    plain HTTP, anything else is assumed to sit behind TLS.
    """
    scheme = "http" if urlsplit(f"//{site.domain}").hostname in _LOOPBACK_HOSTS else "https"
    return f"{scheme}://{site.domain}"
