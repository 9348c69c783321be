"""The ``vexil`` command: a thin front for Vexil's management commands.

``vexil <command> [options]`` runs the Django management command behind it with Vexil's settings,
so every subcommand has ``--help``. ``vexil manage <django command>`` reaches the rest of Django's
commands (``shell``, ``dbshell``, ``changepassword``, ...).
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured

from vexil import __version__

# vexil subcommand -> (management command, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "apply migrations and serve HTTP with the production server"),
    "worker": ("worker", "run the Celery worker (needs CELERY_BROKER_URL)"),
    "migrate": ("migrate", "apply database migrations"),
    "createsuperuser": ("createsuperuser", "create an administrator interactively"),
    "bootstrap": ("bootstrap", "non-interactive first run: admin, organisation, project, keys"),
    "seed-demo": (
        "seed_demo",
        "create a deterministic demo organisation with flags and identities",
    ),
    "check": ("vexil_check", "check the configuration, database and cache; non-zero on failure"),
    "version": ("", "print the version"),
    "manage": ("", "run any Django management command"),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: vexil <command> [options]   (vexil {__version__})", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `vexil <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())  # noqa: T201
        return 0 if args else 2
    name, rest = args[0], args[1:]
    if name in ("version", "--version"):
        print(__version__)  # noqa: T201
        return 0
    if name == "manage":
        command = rest
    elif name in COMMANDS:
        command = [COMMANDS[name][0], *rest]
    else:
        print(f"vexil: unknown command {name!r}\n\n{usage()}", file=sys.stderr)  # noqa: T201
        return 2
    return run_management_command(command)


def run_management_command(command: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    try:
        import django
        from django.core.management import execute_from_command_line

        django.setup()
    except ImproperlyConfigured as error:
        print(f"vexil: configuration error: {error}", file=sys.stderr)  # noqa: T201
        return 2
    except ModuleNotFoundError as error:
        module = os.environ["DJANGO_SETTINGS_MODULE"]
        if error.name is None or not module.startswith(error.name):
            raise
        message = f"DJANGO_SETTINGS_MODULE must be an importable module (got {module!r})"
        print(f"vexil: configuration error: {message}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        execute_from_command_line(["vexil", *command])
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
