"""``vexil dump [--organisation ID ...] [--output FILE]``: see docs/backup.md."""

from __future__ import annotations

import sys
from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from vexil.organisations.models import Organisation
from vexil.portability.dump import installation_dump


class Command(BaseCommand):
    help = (
        "Write every object of the install (or of some organisations) as a JSON dump, to "
        "standard output or --output. Keys are only in hashed form. Load it with `vexil load`."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--organisation",
            type=int,
            action="append",
            metavar="ID",
            help="dump only this organisation (repeat for several); default: everything",
        )
        parser.add_argument("--output", "-o", metavar="FILE", help="write here, not to stdout")

    def handle(self, *args: Any, **options: Any) -> None:
        organisation_ids = options["organisation"]
        if organisation_ids:
            known = set(
                Organisation.objects.filter(id__in=organisation_ids).values_list("id", flat=True)
            )
            missing = sorted(set(organisation_ids) - known)
            if missing:
                raise CommandError(f"No organisation with id {', '.join(map(str, missing))}.")
        output = options["output"]
        try:
            stream = open(output, "w", encoding="utf-8") if output else sys.stdout  # noqa: SIM115
        except OSError as error:
            raise CommandError(f"Cannot write {output}: {error.strerror}") from None
        try:
            summary = installation_dump(stream=stream, organisation_ids=organisation_ids)
        finally:
            if output:
                stream.close()
            else:
                stream.flush()
        self.stderr.write(f"Dumped {summary.total} objects.")
