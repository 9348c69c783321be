"""The permission matrix: every management endpoint by eight principals → expected status.

The world
---------
:func:`world` builds, through the real services, two organisations and the eight principals
of :data:`PRINCIPALS`, each with an :class:`~rest_framework.test.APIClient` that carries real
credentials (a knox token through ``Authorization: Token``, or a master key through
``Authorization: Api-Key``), so the real authentication classes run:

=================  ===========================================================================
anonymous          no credentials
other_org_user     administrator of the *other* organisation ("Globex"), nothing in "Acme"
member             member (USER) of Acme, no grants; belongs to the group "Developers"
env_viewer         member; VIEW_ENVIRONMENT on Acme / Web shop / Development
env_editor         member; VIEW_ENVIRONMENT, UPDATE_FEATURE_STATE, MANAGE_SEGMENT_OVERRIDES,
                   MANAGE_IDENTITIES, VIEW_IDENTITIES on Development
project_admin      member; ``admin`` project grant on Web shop
org_admin          ADMIN of Acme (its creator)
master_key         Acme's admin master API key
=================  ===========================================================================

Objects: ``world.organisation`` (Acme), ``world.project`` (Web shop), ``world.environment``
(Development) and ``world.production`` (Production) of it, ``world.group`` (Developers);
``world.other_organisation``, ``world.other_project``, ``world.other_environment``,
``world.other_group`` in Globex. ``world.users[name]`` are the principals' users.

Adding rows
-----------
Append :class:`Case` objects to a list in a ``test_*.py`` file of this folder and parametrise
:func:`run_case` over it (see ``test_tenancy_matrix.py``)::

    Case(
        "project update",
        "PATCH",
        lambda w: f"/api/v1/projects/{w.project.pk}/",
        body=lambda w: {"name": "Renamed"},
        expected=expect(other_org_user=404, member=404, env_viewer=403, env_editor=403,
                        project_admin=200, org_admin=200, master_key=200),
    )

``expected`` must name all eight principals; :func:`expect` fills ``anonymous=401`` for you.
Each principal's request runs inside a transaction that is rolled back, so every principal meets
the same world and one principal's successful write never changes what the next one sees.
For every refused request (status >= 400) the runner asserts that the database did not change:
by default it compares every row of every ``vexil.*`` model (audit log included) before and
after; pass ``snapshot=`` to compare something narrower or cheaper. Refusals must carry only the
standard error body (``detail`` and ``code``) unless they are 400s.

Environments: until the flags branch's ``environment_create`` service is merged, environments are
created with the ORM; :func:`make_environment` switches to the service by itself once it exists.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.apps import apps
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.test import APIClient

from vexil.api_keys.models import MasterAPIKey
from vexil.api_keys.services import master_api_key_create
from vexil.audit.services import Actor
from vexil.environments import services as environment_services
from vexil.environments.models import Environment
from vexil.invites.models import Invite, InviteLink
from vexil.organisations.models import Organisation, OrganisationRole, UserGroup
from vexil.organisations.services import (
    organisation_create,
    organisation_member_add,
    user_group_create,
)
from vexil.permissions.keys import EnvironmentPermission
from vexil.permissions.services import environment_grant_create, project_grant_create
from vexil.projects.models import Project
from vexil.projects.services import project_create
from vexil.users.models import User
from vexil.users.services import auth_token_issue

PRINCIPALS = (
    "anonymous",
    "other_org_user",
    "member",
    "env_viewer",
    "env_editor",
    "project_admin",
    "org_admin",
    "master_key",
)

EDITOR_PERMISSIONS = (
    EnvironmentPermission.VIEW_ENVIRONMENT,
    EnvironmentPermission.UPDATE_FEATURE_STATE,
    EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES,
    EnvironmentPermission.MANAGE_IDENTITIES,
    EnvironmentPermission.VIEW_IDENTITIES,
)

PASSWORD = "correct horse battery 1"


def make_environment(*, project: Project, name: str, actor: Actor) -> Environment:
    """The hook for environments: the service once the flags branch provides it, else the ORM."""
    environment_create = getattr(environment_services, "environment_create", None)
    if environment_create is not None:
        environment: Environment = environment_create(project=project, name=name, actor=actor)
        return environment
    return Environment.objects.create(project=project, name=name)


@dataclass
class World:
    organisation: Organisation
    other_organisation: Organisation
    project: Project
    other_project: Project
    environment: Environment
    production: Environment
    other_environment: Environment
    group: UserGroup
    other_group: UserGroup
    master_key: MasterAPIKey
    users: dict[str, User]
    clients: dict[str, APIClient]
    credentials: dict[str, str] = field(default_factory=dict)


def _user(email: str) -> User:
    # One hashed password is enough for the login cases; hashing is slow, so only org_admin has it.
    return User.objects.create_user(email=email, password=None)


def build_world() -> World:
    admin = User.objects.create_user(email="admin@acme.test", password=PASSWORD)
    rival = _user("admin@globex.test")
    users = {"org_admin": admin, "other_org_user": rival}
    acme = organisation_create(name="Acme", creator=admin, actor=Actor(user=admin))
    globex = organisation_create(name="Globex", creator=rival, actor=Actor(user=rival))
    as_admin, as_rival = Actor(user=admin), Actor(user=rival)
    for name in ("member", "env_viewer", "env_editor", "project_admin"):
        users[name] = _user(f"{name.replace('_', '-')}@acme.test")
        organisation_member_add(
            organisation=acme, user=users[name], role=OrganisationRole.USER, actor=as_admin
        )
    project = project_create(organisation=acme, name="Web shop", actor=as_admin)
    other_project = project_create(organisation=globex, name="Rival shop", actor=as_rival)
    environment = make_environment(project=project, name="Development", actor=as_admin)
    production = make_environment(project=project, name="Production", actor=as_admin)
    other_environment = make_environment(project=other_project, name="Rival dev", actor=as_rival)
    environment_grant_create(
        environment=environment,
        user=users["env_viewer"],
        permissions=[EnvironmentPermission.VIEW_ENVIRONMENT],
        actor=as_admin,
    )
    environment_grant_create(
        environment=environment,
        user=users["env_editor"],
        permissions=EDITOR_PERMISSIONS,
        actor=as_admin,
    )
    project_grant_create(project=project, user=users["project_admin"], admin=True, actor=as_admin)
    group = user_group_create(
        organisation=acme, name="Developers", user_ids=[users["member"].pk], actor=as_admin
    )
    other_group = user_group_create(
        organisation=globex, name="Rivals", user_ids=[rival.pk], actor=as_rival
    )
    master_key, plaintext = master_api_key_create(organisation=acme, name="CI", actor=as_admin)
    _add_invites(acme, invitee=rival)
    credentials = {name: f"Token {auth_token_issue(user=user)}" for name, user in users.items()}
    credentials["master_key"] = f"Api-Key {plaintext}"
    clients = {"anonymous": APIClient()}
    for name, header in credentials.items():
        clients[name] = APIClient(HTTP_AUTHORIZATION=header)
    return World(
        organisation=acme,
        other_organisation=globex,
        project=project,
        other_project=other_project,
        environment=environment,
        production=production,
        other_environment=other_environment,
        group=group,
        other_group=other_group,
        master_key=master_key,
        users=users,
        clients=clients,
        credentials=credentials,
    )


def _add_invites(organisation: Organisation, invitee: User) -> None:
    """A pending e-mail invite to Acme for Globex's administrator, and an invite link to Acme
    (the ORM: no audit rows or e-mails, so other rows of the matrix see the world unchanged)."""
    invite = Invite(
        organisation=organisation,
        email=invitee.email,
        expires_at=timezone.now() + timedelta(days=7),
    )
    link = InviteLink(organisation=organisation)
    for row in (invite, link):
        row.set_hash_digest()
        row.save()


@pytest.fixture
def world(db: None) -> World:
    return build_world()


# Brute-force bookkeeping, which a refused request is meant to write (as django-axes's records).
_BOOKKEEPING = frozenset({"users.RateLimitBucket", "users.LoginFailureCount"})


def database_snapshot(_: World | None = None) -> dict[str, list[dict[str, Any]]]:
    """Every row of every Vexil model (and the users' tokens), ordered by primary key."""
    snapshot = {}
    for model in apps.get_models():
        if model._meta.label in _BOOKKEEPING:
            continue
        if model.__module__.startswith("vexil.") or model._meta.label == "knox.AuthToken":
            snapshot[model._meta.label] = list(model._default_manager.order_by("pk").values())
    return snapshot


UrlFactory = Callable[[World], str]
BodyFactory = Callable[[World], Any]
Snapshot = Callable[[World], Any]


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    url: UrlFactory
    body: BodyFactory | None = None
    expected: dict[str, int] = field(default_factory=dict)
    snapshot: Snapshot = database_snapshot

    def __str__(self) -> str:
        return self.name


def expect(**statuses: int) -> dict[str, int]:
    """Expected statuses by principal; ``anonymous`` defaults to 401."""
    statuses.setdefault("anonymous", 401)
    missing = set(PRINCIPALS) - set(statuses)
    unknown = set(statuses) - set(PRINCIPALS)
    assert not missing, f"expected statuses missing for {sorted(missing)}"
    assert not unknown, f"no such principals: {sorted(unknown)}"
    return statuses


class _RollbackError(Exception):
    pass


def _request(world: World, case: Case, principal: str) -> tuple[int, Any, bool]:
    """Send the case's request as ``principal`` in a rolled-back transaction.

    Returns (status, body, database changed?).
    """
    client = world.clients[principal]
    cache.clear()  # throttles count per address; each principal starts afresh
    before = case.snapshot(world)
    outcome: tuple[int, Any, bool] = (0, None, False)
    try:
        with transaction.atomic():
            body = case.body(world) if case.body else None
            response = client.generic(
                case.method,
                case.url(world),
                data="" if body is None else _json(body),
                content_type="application/json",
                HTTP_ACCEPT="application/json",
            )
            if response.streaming:  # an export: read it all (inside the transaction), keep none
                b"".join(response.streaming_content)  # type: ignore[attr-defined]
                data = None
            else:
                data = response.json() if response.content else None
            outcome = (response.status_code, data, case.snapshot(world) != before)
            raise _RollbackError
    except _RollbackError:
        pass
    return outcome


def _json(body: Any) -> str:
    return json.dumps(body, default=str)


def run_case(world: World, case: Case) -> None:
    """Send ``case`` as every principal; assert the statuses, unchanged data on refusals, and
    that refusals carry nothing but the standard error body."""
    assert set(case.expected) == set(PRINCIPALS), f"{case.name}: expected names every principal"
    actual: dict[str, int] = {}
    problems: list[str] = []
    for principal in PRINCIPALS:
        status, data, changed = _request(world, case, principal)
        actual[principal] = status
        if status >= 400 and changed:
            problems.append(f"{principal}: refused with {status} but the database changed")
        if status in (401, 403, 404, 405) and (
            not isinstance(data, dict) or set(data) != {"detail", "code"}
        ):
            problems.append(f"{principal}: {status} body is not the error shape: {data!r}")
    assert actual == case.expected, case.name
    assert problems == [], case.name
