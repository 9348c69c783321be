"""A new administrator's starter workspace: an organisation, a project, Development and
Production environments, and the keys the SDKs need.

One rule for every way an install gets its first administrator: the first-run page,
``vexil bootstrap`` and, after ``vexil createsuperuser``, ``vexil bootstrap --email`` all end here.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.http import HttpRequest

from vexil.audit.services import Actor
from vexil.environments.models import Environment
from vexil.environments.services import environment_api_key_create, environment_create
from vexil.organisations.models import Organisation
from vexil.organisations.services import organisation_create
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.users.models import User
from vexil.users.services import instance_initialise

DEFAULT_ORGANISATION = "Default organisation"
DEFAULT_PROJECT = "Default project"
STARTER_ENVIRONMENTS = ("Development", "Production")


@dataclass(frozen=True)
class EnvironmentKeys:
    name: str
    client_key: str
    server_key: str | None  # plaintext, only when made just now (keys are shown once)


@dataclass(frozen=True)
class Workspace:
    organisation: Organisation
    project: Project
    environments: list[EnvironmentKeys]
    created: bool  # anything was created (else it only shows what exists)

    def as_json(self) -> dict[str, object]:
        return {
            "organisation": {"id": self.organisation.pk, "name": self.organisation.name},
            "project": {"id": self.project.pk, "name": self.project.name},
            "environments": [
                {"name": e.name, "client_key": e.client_key}
                | ({"server_key": e.server_key} if e.server_key else {})
                for e in self.environments
            ],
        }


@transaction.atomic
def instance_set_up(
    *,
    email: str,
    password: str,
    first_name: str = "",
    site_name: str = "",
    site_domain: str = "",
    organisation_name: str | None = None,
    project_name: str | None = None,
    request: HttpRequest | None = None,
) -> tuple[User, Workspace]:
    """Create the first administrator and their starter workspace, with new server-side keys.

    ``request`` (the first-run page's) gives the set-up e-mail's links their host."""
    user = instance_initialise(
        email=email,
        password=password,
        first_name=first_name,
        site_name=site_name,
        site_domain=site_domain,
        request=request,
    )
    workspace = workspace_ensure(
        user=user, organisation_name=organisation_name, project_name=project_name
    )
    return user, workspace


@transaction.atomic
def workspace_ensure(
    *,
    user: User,
    organisation_name: str | None = None,
    project_name: str | None = None,
    new_server_keys: bool = False,
) -> Workspace:
    """Give ``user`` the starter workspace unless they have one, and return it with its keys.

    A name that is given picks (or creates) the user's organisation or project of that name;
    without one, the user's first organisation and its first project are shown. Environments
    created here get a server-side key each; existing ones get a new one only with
    ``new_server_keys``, since a key's plaintext is never stored.
    """
    actor = Actor(user=user)
    created = False
    organisation = _organisation_of(user, organisation_name)
    if organisation is None:
        organisation = organisation_create(
            name=organisation_name or DEFAULT_ORGANISATION, creator=user, actor=actor
        )
        created = True
    project = _project_of(organisation, project_name)
    if project is None:
        project = project_create(
            organisation=organisation, name=project_name or DEFAULT_PROJECT, actor=actor
        )
        created = True
    environments = list(Environment.objects.filter(project=project).order_by("id"))
    made_now = not environments
    if made_now:
        environments = [
            environment_create(project=project, name=name, actor=actor)
            for name in STARTER_ENVIRONMENTS
        ]
        created = True
    keys = [
        EnvironmentKeys(
            name=environment.name,
            client_key=environment.api_key,
            server_key=environment_api_key_create(
                environment=environment, name=f"{environment.name} server key", actor=actor
            )[1]
            if made_now or new_server_keys
            else None,
        )
        for environment in environments
    ]
    return Workspace(organisation, project, keys, created)


def _organisation_of(user: User, name: str | None) -> Organisation | None:
    organisations = Organisation.objects.filter(memberships__user=user).order_by("id")
    if name is not None:
        organisations = organisations.filter(name=name)
    return organisations.first()


def _project_of(organisation: Organisation, name: str | None) -> Project | None:
    projects = Project.objects.filter(organisation=organisation).order_by("id")
    if name is not None:
        projects = projects.filter(name=name)
    return projects.first()
