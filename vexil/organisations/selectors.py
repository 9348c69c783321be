from __future__ import annotations

from django.db.models import CharField, OuterRef, QuerySet, Subquery, Value

from vexil.organisations.models import (
    Organisation,
    OrganisationMembership,
    OrganisationRole,
    UserGroup,
)
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.principals import MasterKeyPrincipal, Principal


def organisations_of(principal: Principal) -> QuerySet[Organisation]:
    """The principal's organisations, each annotated with ``role`` (the principal's role)."""
    organisations = permission_selectors.organisations_for(principal).order_by("id")
    if isinstance(principal, MasterKeyPrincipal):
        role = OrganisationRole.ADMIN if principal.is_admin else OrganisationRole.USER
        return organisations.annotate(role=Value(str(role), output_field=CharField()))
    memberships = OrganisationMembership.objects.filter(
        organisation=OuterRef("pk"), user=principal
    ).values("role")[:1]
    return organisations.annotate(role=Subquery(memberships, output_field=CharField()))


def members_of(organisation: Organisation) -> QuerySet[OrganisationMembership]:
    return (
        OrganisationMembership.objects.filter(organisation=organisation)
        .select_related("user")
        .order_by("user__email")
    )


def groups_in(organisation: Organisation) -> QuerySet[UserGroup]:
    """Every group of the organisation with its users, by name (for those who manage groups)."""
    return (
        UserGroup.objects.filter(organisation=organisation)
        .prefetch_related("users")
        .order_by("name", "id")
    )


def groups_visible_in(organisation: Organisation, principal: Principal) -> QuerySet[UserGroup]:
    """Administrators see every group; members see the groups they belong to."""
    groups = UserGroup.objects.filter(organisation=organisation).prefetch_related("users")
    if permission_selectors.is_organisation_admin(principal, organisation.pk):
        return groups.order_by("name", "id")
    if isinstance(principal, MasterKeyPrincipal):
        return groups.none()
    return groups.filter(users=principal).order_by("name", "id")


def groups_of_user(organisation: Organisation, principal: Principal) -> QuerySet[UserGroup]:
    if isinstance(principal, MasterKeyPrincipal):
        return UserGroup.objects.none()
    return UserGroup.objects.filter(organisation=organisation, users=principal).order_by("name")
