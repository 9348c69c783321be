"""``vexil load FILE``: see docs/backup.md."""

from __future__ import annotations

from argparse import ArgumentParser
from pathlib import Path
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from vexil.portability.load import LoadError, installation_load


class Command(BaseCommand):
    help = (
        "Load a `vexil dump` file into an empty install (applying migrations first). "
        "Refuses an install that has data, and a dump from a newer format version."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("file", help="the dump file")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        call_command("migrate", interactive=False, verbosity=0)
        try:
            summary = installation_load(path=path)
        except LoadError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"Loaded {summary.total} objects from a dump of Vexil "
            f"{summary.header.get('vexil_version', '?')} made {summary.header.get('created_at')}."
        )
