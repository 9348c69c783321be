"""``vexil import-flagsmith``: copy a Flagsmith installation into Vexil, then check it.

See docs/migrating-from-flagsmith.md. Exit status: 0 when everything was imported and the
verification found no mismatch; 1 when something was skipped or mismatched, or the source could
not be read (with the reason, never a traceback); 2 for a usage error.
"""

from __future__ import annotations

import ipaddress
import json
import sys
from argparse import ArgumentParser, ArgumentTypeError
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.test.utils import override_settings

from vexil.audit.services import Actor
from vexil.importer.report import Progress, Report
from vexil.importer.run import MAX_CONCURRENCY, READ_THREADS, ImportOptions, import_flagsmith
from vexil.importer.source import FlagsmithSource, SourceError
from vexil.importer.verify import verify
from vexil.users.models import User


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError:
        raise ArgumentTypeError(f"not a CIDR network: {value!r}") from None


def _concurrency(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if not 1 <= number <= MAX_CONCURRENCY:
        raise ArgumentTypeError(f"a whole number from 1 to {MAX_CONCURRENCY}, not {value!r}")
    return number


class Command(BaseCommand):
    help = (
        "Import organisations, projects, environments (keeping their client-side keys), "
        "features, segments, overrides and, with --identities, identities from a Flagsmith "
        "API; then compare the flags both serve."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--url",
            required=True,
            help="Flagsmith's API base, e.g. https://flagsmith.example.com/api/v1/",
        )
        auth = parser.add_mutually_exclusive_group(required=True)
        auth.add_argument("--token", help="a Flagsmith user's API token")
        auth.add_argument("--api-key", help="a Flagsmith organisation API key")
        parser.add_argument(
            "--organisation",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="import only this organisation (repeatable)",
        )
        parser.add_argument(
            "--project",
            type=int,
            action="append",
            default=[],
            metavar="ID",
            help="import only this project (repeatable)",
        )
        parser.add_argument(
            "--identities",
            action="store_true",
            help="also import identities, their traits and overrides",
        )
        parser.add_argument(
            "--concurrency",
            type=_concurrency,
            default=READ_THREADS,
            metavar="N",
            help="identities whose traits and overrides are read from Flagsmith at once "
            f"(default {READ_THREADS}; more suits a Flagsmith with many workers)",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="report what would change; change nothing"
        )
        parser.add_argument("--json", action="store_true", help="print the report as JSON")
        parser.add_argument(
            "--owner",
            metavar="EMAIL",
            help="the Vexil user who administers imported organisations "
            "(default: the first superuser)",
        )
        parser.add_argument(
            "--allow-network",
            type=_network,
            action="append",
            default=[],
            metavar="CIDR",
            help="allow Flagsmith on this internal network (e.g. 10.0.0.0/8); "
            "public addresses are always allowed",
        )
        parser.add_argument(
            "--verify-identities",
            type=int,
            default=50,
            metavar="N",
            help="imported identities compared per environment (default 50)",
        )
        parser.add_argument(
            "--verify-transient",
            type=int,
            default=300,
            metavar="N",
            help="random transient identities compared per environment (default 300)",
        )
        parser.add_argument("--no-verify", action="store_true", help="skip the verification")

    def handle(self, *args: Any, **options: Any) -> None:
        owner = self._owner(options["owner"])
        networks = [*settings.VEXIL_WEBHOOK_ALLOWED_NETWORKS, *options["allow_network"]]
        with override_settings(VEXIL_WEBHOOK_ALLOWED_NETWORKS=networks):
            report = self._import(owner, options)
        self._print(report, as_json=options["json"])
        if not report.ok:
            sys.exit(1)

    def _import(self, owner: User, options: dict[str, Any]) -> Report:
        progress = Progress(sys.stderr, quiet=options["verbosity"] == 0)
        try:
            source = FlagsmithSource(
                options["url"], token=options["token"], api_key=options["api_key"]
            )
        except SourceError as exc:
            raise CommandError(str(exc)) from None
        report, environments = import_flagsmith(
            source,
            actor=Actor(user=owner),
            owner=owner,
            options=ImportOptions(
                organisations=frozenset(options["organisation"]),
                projects=frozenset(options["project"]),
                identities=options["identities"],
                concurrency=options["concurrency"],
                dry_run=options["dry_run"],
            ),
            progress=progress,
        )
        if report.error is None and not options["dry_run"] and not options["no_verify"]:
            try:
                report.verification = verify(
                    source,
                    environments,
                    sample=options["verify_identities"],
                    transient=options["verify_transient"],
                    seed=0,
                    progress=progress,
                )
            except SourceError as exc:
                report.error = f"verification stopped: {exc}"
            except KeyboardInterrupt:
                report.error = "verification interrupted"
            progress.done()
        return report

    def _owner(self, email: str | None) -> User:
        if email:
            user = User.objects.filter(email__iexact=email).first()
            if user is None:
                raise CommandError(f"No Vexil user has the e-mail address {email!r}.")
            return user
        user = User.objects.filter(is_superuser=True).order_by("id").first()
        if user is None:
            raise CommandError(
                "Vexil has no administrator yet: run `vexil bootstrap --email ...` first, or "
                "pass --owner EMAIL."
            )
        return user

    def _print(self, report: Report, *, as_json: bool) -> None:
        if as_json:
            self.stdout.write(json.dumps(report.as_json(), indent=2))
        else:
            self.stdout.write(report.as_text())
