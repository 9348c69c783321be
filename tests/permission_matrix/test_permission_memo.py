"""A request reads a user's role and grants once, and never answers from a stale memo.

``vexil.permissions.selectors`` remembers the rows its rules read inside
``remembered_per_request`` (every request, through its middleware); a change to a membership, a
grant or a group's members forgets them at once, and nothing is remembered outside a request.
"""

from __future__ import annotations

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.organisations.models import Organisation, OrganisationMembership, OrganisationRole
from vexil.organisations.services import (
    organisation_member_add,
    organisation_member_role_update,
    user_group_create,
    user_group_users_add,
)
from vexil.permissions import selectors
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.permissions.services import environment_grant_create, grant_delete, project_grant_create
from vexil.projects.models import Project
from vexil.users.models import User


def _member(organisation: Organisation, role: OrganisationRole = OrganisationRole.USER) -> User:
    user = User.objects.create_user(email="member@example.com", password=None)
    organisation_member_add(organisation=organisation, user=user, role=role, actor=Actor())
    return user


def test_memo__same_questions_in_one_request__each_row_read_once(
    organisation: Organisation, project: Project, environment: Environment
) -> None:
    # Given
    user = _member(organisation)
    environment_grant_create(
        environment=environment, user=user, permissions=["UPDATE_FEATURE_STATE"], actor=Actor()
    )

    # When
    with selectors.remembered_per_request(), CaptureQueriesContext(connection) as queries:
        for _ in range(3):
            selectors.is_organisation_admin(user, organisation.pk)
            selectors.is_project_admin(user, project)
            selectors.environment_permissions(user, environment)
            selectors.is_environment_admin(user, environment)

    # Then: the role, the project grants, the environment grants
    assert len(queries) == 3


def test_memo__outside_a_request__nothing_remembered(organisation: Organisation) -> None:
    user = _member(organisation)

    with CaptureQueriesContext(connection) as queries:
        selectors.organisation_role(user, organisation.pk)
        selectors.organisation_role(user, organisation.pk)

    assert len(queries) == 2


def test_memo__role_changed_during_request__new_role_seen(organisation: Organisation) -> None:
    user = _member(organisation)
    membership = OrganisationMembership.objects.get(user=user, organisation=organisation)

    with selectors.remembered_per_request():
        before = selectors.is_organisation_admin(user, organisation.pk)
        organisation_member_role_update(
            membership=membership, role=OrganisationRole.ADMIN, actor=Actor()
        )
        after = selectors.is_organisation_admin(user, organisation.pk)

    assert (before, after) == (False, True)


def test_memo__grant_deleted_during_request__refused_at_once(
    organisation: Organisation, project: Project
) -> None:
    user = _member(organisation)
    grant = project_grant_create(
        project=project, user=user, permissions=["CREATE_FEATURE"], actor=Actor()
    )

    with selectors.remembered_per_request():
        before = selectors.has_project_permission(user, project, ProjectPermission.CREATE_FEATURE)
        grant_delete(grant=grant, actor=Actor())
        after = selectors.has_project_permission(user, project, ProjectPermission.CREATE_FEATURE)

    assert (before, after) == (True, False)


def test_memo__joined_a_group_during_request__group_grant_seen(
    organisation: Organisation, environment: Environment
) -> None:
    user = _member(organisation)
    group = user_group_create(organisation=organisation, name="Ops", actor=Actor())
    environment_grant_create(environment=environment, group=group, admin=True, actor=Actor())

    with selectors.remembered_per_request():
        before = selectors.is_environment_admin(user, environment)
        user_group_users_add(group=group, user_ids=[user.pk], actor=Actor())
        after = selectors.has_environment_permission(
            user, environment, EnvironmentPermission.UPDATE_FEATURE_STATE
        )

    assert (before, after) == (False, True)


def test_memo__role_changed_between_requests__next_request_sees_it(
    organisation: Organisation,
) -> None:
    # Given a member who may not read the organisation's audit log
    user = _member(organisation)
    client = Client()
    client.force_login(user)
    url = f"/api/v1/organisations/{organisation.pk}/audit/"
    refused = client.get(url).status_code

    # When they are made an administrator between two requests
    membership = OrganisationMembership.objects.get(user=user, organisation=organisation)
    organisation_member_role_update(
        membership=membership, role=OrganisationRole.ADMIN, actor=Actor()
    )

    # Then the next request sees the new role, and the test's thread remembers nothing
    assert (refused, client.get(url).status_code) == (403, 200)
    assert selectors._memo.get() is None
