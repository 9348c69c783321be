from __future__ import annotations

import pytest
from django.test import Client

from vexil.audit.models import AuditLog
from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_create
from vexil.features.models import Feature, FeatureState
from vexil.organisations.models import Organisation, OrganisationMembership
from vexil.projects.models import Project
from vexil.users.models import User

pytestmark = pytest.mark.django_db


def test_home__no_organisation__says_create_one(db: None) -> None:
    user = User.objects.create_user(email="new@example.com", password="x")
    client = Client()
    client.force_login(user)

    response = client.get("/")

    assert response.status_code == 200
    assert "Create organisation" in response.content.decode()


def test_organisation_new__creates_it_with_the_user_as_admin(db: None) -> None:
    user = User.objects.create_user(email="new@example.com", password="x")
    client = Client()
    client.force_login(user)

    response = client.post("/organisations/new/", {"name": "Initech"})

    organisation = Organisation.objects.get(name="Initech")
    assert response["Location"] == f"/organisations/{organisation.pk}/"
    assert OrganisationMembership.objects.get(organisation=organisation).user == user
    assert AuditLog.objects.filter(organisation_id=organisation.pk, author=user).exists()


def test_organisation_new__blank_name__field_error(admin_client: Client) -> None:
    response = admin_client.post("/organisations/new/", {"name": ""})

    assert response.status_code == 400
    assert 'id="id_name_error"' in response.content.decode()


def test_organisation__empty__tells_next_step(
    admin_client: Client, organisation: Organisation
) -> None:
    response = admin_client.get(f"/organisations/{organisation.pk}/")

    body = response.content.decode()
    assert "No projects yet" in body
    assert f'href="/organisations/{organisation.pk}/projects/new/"' in body


def test_project_new__standard_environments(
    admin_client: Client, organisation: Organisation, organisation_admin: User
) -> None:
    response = admin_client.post(
        f"/organisations/{organisation.pk}/projects/new/",
        {"name": "Mobile", "standard_environments": "on"},
    )

    project = Project.objects.get(name="Mobile")
    assert response["Location"] == f"/projects/{project.pk}/"
    names = list(project.environments.order_by("id").values_list("name", flat=True))
    assert names == ["Development", "Production"]
    assert AuditLog.objects.filter(project=project, author=organisation_admin).count() == 3


def test_project_new__restricted_to_admins__member_refused(
    viewer_client: Client, organisation: Organisation, actor: Actor
) -> None:
    organisation.restrict_project_create_to_admin = True
    organisation.save(update_fields=["restrict_project_create_to_admin"])

    response = viewer_client.post(
        f"/organisations/{organisation.pk}/projects/new/", {"name": "Sneaky"}
    )

    assert response.status_code == 403
    assert not Project.objects.filter(name="Sneaky").exists()


def test_environment_new__cloned__copies_flag_states(
    admin_client: Client, project: Project, environment: Environment, feature: Feature
) -> None:
    FeatureState.objects.filter(feature=feature, environment=environment).update(enabled=True)

    response = admin_client.post(
        f"/projects/{project.pk}/environments/new/",
        {"name": "Staging", "clone_from": str(environment.pk)},
    )

    staging = Environment.objects.get(name="Staging")
    assert (
        response["Location"] == f"/projects/{project.pk}/environments/{staging.api_key}/features/"
    )
    assert FeatureState.objects.get(feature=feature, environment=staging).enabled is True


def test_environment_new__viewer__refused_and_nothing_created(
    viewer_client: Client, project: Project
) -> None:
    response = viewer_client.post(f"/projects/{project.pk}/environments/new/", {"name": "X"})

    assert response.status_code == 403
    assert not Environment.objects.filter(name="X").exists()


def test_environment_page__names_org_project_environment_and_switches_by_name(
    admin_client: Client, project: Project, environment: Environment, actor: Actor
) -> None:
    production = environment_create(project=project, name="Production", actor=actor)

    response = admin_client.get(f"/projects/{project.pk}/environments/{environment.api_key}/")
    page = admin_client.get(response["Location"]).content.decode()

    assert "Acme" in page
    assert "Web shop" in page
    assert "Development" in page
    assert f'href="/projects/{project.pk}/environments/{production.api_key}/features/"' in page


def test_home__remembers_last_environment(
    admin_client: Client, project: Project, environment: Environment
) -> None:
    admin_client.get(f"/projects/{project.pk}/environments/{environment.api_key}/features/")

    response = admin_client.get("/")

    assert (
        response["Location"]
        == f"/projects/{project.pk}/environments/{environment.api_key}/features/"
    )


def test_other_tenant__project_and_environment__404(
    admin_client: Client, other_project: Project, other_environment: Environment
) -> None:
    assert admin_client.get(f"/projects/{other_project.pk}/").status_code == 404
    url = f"/projects/{other_project.pk}/environments/{other_environment.api_key}/features/"
    assert admin_client.get(url).status_code == 404
