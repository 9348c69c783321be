"""A member removed from an organisation loses access at once: their API token and their
browser session keep working for the account, but not for that organisation's data (every
request checks membership; nothing is cached in the credential)."""

from __future__ import annotations

from django.test import Client
from rest_framework.test import APIClient

from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.projects.models import Project
from vexil.users.models import User
from vexil.users.services import auth_token_issue


def test_member_removed__token_and_session__lose_the_organisation_at_once(
    organisation: Organisation, organisation_admin: User, project: Project
) -> None:
    # Given an administrator of the organisation, signed in by a token and in a browser
    bob = User.objects.create_user(email="bob@example.com", password="correct horse 42")
    OrganisationMembership.objects.create(organisation=organisation, user=bob, role="ADMIN")
    token = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=bob)}")
    browser = Client()
    browser.force_login(bob)
    pages = [f"/organisations/{organisation.pk}/settings/", f"/projects/{project.pk}/"]
    api = [f"/api/v1/organisations/{organisation.pk}/", f"/api/v1/projects/{project.pk}/"]
    assert [browser.get(page).status_code for page in pages] == [200, 200]
    assert [token.get(path).status_code for path in api] == [200, 200]
    # When another administrator removes him
    owner = APIClient(HTTP_AUTHORIZATION=f"Token {auth_token_issue(user=organisation_admin)}")
    removed = owner.post(
        f"/api/v1/organisations/{organisation.pk}/remove-users/", [{"id": bob.pk}], format="json"
    )
    assert removed.status_code == 204
    # Then the very next requests, with the same credentials, find nothing of it
    assert [browser.get(page).status_code for page in pages] == [404, 404]
    assert [token.get(path).status_code for path in api] == [404, 404]
    assert token.get("/api/v1/organisations/").json()["results"] == []
    # while the account itself still works
    assert token.get("/api/v1/auth/users/me/").status_code == 200
