from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from vexil.common.invocation import vexil_command
from vexil.users.models import User
from vexil.users.selectors import instance_is_initialised
from vexil.users.services import password_generate
from vexil.users.workspace import (
    DEFAULT_ORGANISATION,
    DEFAULT_PROJECT,
    Workspace,
    instance_set_up,
    workspace_ensure,
)


class Command(BaseCommand):
    help = (
        "Get an administrator working SDK keys without a browser. On a new install: creates the "
        "administrator, an organisation, a project, environments Development and Production and "
        "a server-side key for each. For an existing user (made on the first-run page or by "
        "createsuperuser): creates that organisation, project and environments if they have "
        "none, else shows the ones they have. Safe to run again."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--email",
            required=True,
            help="the administrator's e-mail address: created on a new install, else an "
            "existing user's",
        )
        parser.add_argument(
            "--password",
            help="a new administrator's password (generated and printed once when omitted)",
        )
        parser.add_argument(
            "--organisation",
            help=f"the organisation to create or show (default: the user's first, or "
            f"{DEFAULT_ORGANISATION!r})",
        )
        parser.add_argument(
            "--project",
            help=f"the project to create or show (default: the organisation's first, or "
            f"{DEFAULT_PROJECT!r})",
        )
        parser.add_argument(
            "--new-server-keys",
            action="store_true",
            help="also make a new server-side key for each existing environment (a key is "
            "shown only when it is made)",
        )
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, email: str, password: str | None, **options: Any) -> None:
        # A container's first start runs bootstrap before anything has migrated the database.
        call_command("migrate", interactive=False, verbosity=0)
        email = User.objects.normalize_email(email).lower()
        user = User.objects.filter(email__iexact=email).first()
        generated = False
        if user is None:
            if instance_is_initialised():
                raise CommandError(_no_such_user(email))
            generated = password is None
            password = password or password_generate()
            user, workspace = instance_set_up(
                email=email,
                password=password,
                organisation_name=options["organisation"],
                project_name=options["project"],
            )
        else:
            if password is not None:
                raise CommandError(
                    f"{email} already exists; --password only sets a new administrator's "
                    f"password (to change it: {vexil_command()} manage changepassword {email})"
                )
            workspace = workspace_ensure(
                user=user,
                organisation_name=options["organisation"],
                project_name=options["project"],
                new_server_keys=options["new_server_keys"],
            )
        self._print(user, password if generated else None, workspace, as_json=options["json"])

    def _print(
        self, user: User, password: str | None, workspace: Workspace, *, as_json: bool
    ) -> None:
        result: dict[str, Any] = {"user": {"email": user.email}, **workspace.as_json()}
        if password:
            result["user"]["password"] = password
        if any(e.server_key is None for e in workspace.environments):
            self.stderr.write(
                "Server-side keys are shown only when they are made; add --new-server-keys "
                "to make one for each environment."
            )
        if as_json:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Administrator: {user.email}")
        if password:
            self.stdout.write(f"Password (shown once): {password}")
        verb = "created" if workspace.created else "exists"
        self.stdout.write(f"Organisation: {workspace.organisation.name} ({verb})")
        self.stdout.write(f"Project: {workspace.project.name}")
        for item in workspace.environments:
            server = f", server key (shown once) {item.server_key}" if item.server_key else ""
            self.stdout.write(f"Environment {item.name}: client key {item.client_key}{server}")


def _no_such_user(email: str) -> str:
    admins = User.objects.filter(is_superuser=True).order_by("id").values_list("email", flat=True)
    return (
        f"No user has the e-mail address {email}, and this install already has its "
        f"administrator ({', '.join(admins)}). Run {vexil_command()} bootstrap --email with "
        f"an existing user's address, or create one first with {vexil_command()} createsuperuser."
    )
