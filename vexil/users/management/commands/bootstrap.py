from __future__ import annotations

import json
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand

from vexil.users.selectors import instance_is_initialised
from vexil.users.services import instance_initialise, password_generate


class Command(BaseCommand):
    help = (
        "Non-interactive first run for scripts and containers: creates the administrator. "
        "Running it again on an initialised install changes nothing and says so."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--password", help="generated and printed once when omitted")
        parser.add_argument("--organisation", default="Default organisation")
        parser.add_argument("--project", default="Default project")
        parser.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, email: str, password: str | None, **options: Any) -> None:
        if instance_is_initialised():
            self.stderr.write("This install is already initialised; nothing was changed.")
            return
        generated = password is None
        password = password or password_generate()
        user = instance_initialise(email=email, password=password)
        result: dict[str, Any] = {"user": {"email": user.email}}
        if generated:
            result["user"]["password"] = password
        if options["json"]:
            self.stdout.write(json.dumps(result))
            return
        self.stdout.write(f"Administrator: {user.email}")
        if generated:
            self.stdout.write(f"Password (shown once): {password}")
