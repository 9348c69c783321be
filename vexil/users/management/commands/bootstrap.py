from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import transaction

from vexil.audit.services import Actor
from vexil.environments.services import environment_api_key_create, environment_create
from vexil.organisations.services import organisation_create
from vexil.projects.services import project_create
from vexil.users.selectors import instance_is_initialised
from vexil.users.services import instance_initialise, password_generate

ENVIRONMENT_NAMES = ("Development", "Production")


class Command(BaseCommand):
    help = (
        "Non-interactive first run for scripts and containers: creates the administrator, an "
        "organisation, a project, environments Development and Production and one server-side "
        "key each. Running it again on an initialised install changes nothing and says so."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="generated and printed once when omitted")
        parser.add_argument("--organisation", default="Default organisation")
        parser.add_argument("--project", default="Default project")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, email: str, password: str | None, **options: Any) -> None:
        # A container's first start runs bootstrap before anything has migrated the database.
        call_command("migrate", interactive=False, verbosity=0)
        if instance_is_initialised():
            self.stderr.write("This install is already initialised; nothing was changed.")
            return
        generated = password is None
        password = password or password_generate()
        with transaction.atomic():
            user = instance_initialise(email=email, password=password)
            actor = Actor(user=user)
            organisation = organisation_create(
                name=options["organisation"], creator=user, actor=actor
            )
            project = project_create(
                organisation=organisation, name=options["project"], actor=actor
            )
            environments: list[dict[str, str]] = []
            for name in ENVIRONMENT_NAMES:
                environment = environment_create(project=project, name=name, actor=actor)
                _, server_key = environment_api_key_create(
                    environment=environment, name=f"{name} server key", actor=actor
                )
                environments.append(
                    {"name": name, "client_key": environment.api_key, "server_key": server_key}
                )
        result: dict[str, Any] = {
            "user": {"email": user.email},
            "organisation": {"id": organisation.pk, "name": organisation.name},
            "project": {"id": project.pk, "name": project.name},
            "environments": environments,
        }
        if generated:
            result["user"]["password"] = password
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Administrator: {user.email}")
        if generated:
            self.stdout.write(f"Password (shown once): {password}")
        self.stdout.write(f"Organisation: {organisation.name} (id {organisation.pk})")
        self.stdout.write(f"Project: {project.name} (id {project.pk})")
        for item in environments:
            self.stdout.write(
                f"Environment {item['name']}: client key {item['client_key']}, "
                f"server key (shown once) {item['server_key']}"
            )
