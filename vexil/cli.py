"""The ``vexil`` command: a thin front for Vexil's management commands.

``vexil <command> [options]`` runs the Django management command behind it with Vexil's settings,
so every subcommand has ``--help`` (and ``vexil help <command>``). ``vexil manage <django
command>`` reaches the rest of Django's commands (``shell``, ``dbshell``, ``changepassword``, ...).
"""

from __future__ import annotations

import os
import sys

from django.core.exceptions import ImproperlyConfigured

from vexil import __version__

# vexil subcommand -> (management command, one-line summary)
COMMANDS: dict[str, tuple[str, str]] = {
    "serve": ("serve", "apply migrations and serve HTTP with the production server"),
    "bootstrap": (
        "bootstrap",
        "first run without a browser: administrator, organisation, project and SDK keys",
    ),
    "check": ("vexil_check", "check the configuration, database and cache; non-zero on failure"),
    "seed-demo": (
        "seed_demo",
        "create a deterministic demo organisation with flags and identities",
    ),
    "dump": ("dump", "write an organisation (or everything) as a JSON dump; keys only hashed"),
    "load": ("load", "load a `vexil dump` file into an empty install"),
    "import-flagsmith": (
        "import_flagsmith",
        "import organisations, flags, segments and identities from a Flagsmith API",
    ),
    "add-member": (
        "add_member",
        "add a person to an organisation with a role (an invite link if they have no account)",
    ),
    "migrate": ("migrate", "apply database migrations"),
    "createsuperuser": ("createsuperuser", "create an administrator interactively"),
    "worker": ("worker", "run the Celery worker (needs CELERY_BROKER_URL)"),
    "version": ("", "print the version"),
    "manage": ("", "run any other Django management command (vexil manage help lists them)"),
    "help": ("", "show this list, or a command's options (vexil help serve)"),
}

# Django's options on every command. They still work; `--help` leaves them out, as they are
# about Django's machinery rather than the command (verbosity stays: it is useful).
HIDDEN_OPTIONS = frozenset(
    {"--version", "--settings", "--pythonpath", "--traceback", "--no-color", "--force-color"}
)
OWN_HELP = {
    "version": "usage: vexil version\n\nPrint Vexil's version and exit.",
    "manage": (
        "usage: vexil manage <django command> [options]\n\n"
        "Run any Django management command with Vexil's settings; `vexil manage help` lists them."
    ),
}


def usage() -> str:
    width = max(len(name) for name in COMMANDS)
    lines = [f"usage: vexil <command> [options]   (vexil {__version__})", "", "commands:"]
    lines += [f"  {name.ljust(width)}  {summary}" for name, (_, summary) in COMMANDS.items()]
    lines += ["", "Run `vexil help <command>` or `vexil <command> --help` for a command's options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help"):
        print(usage())  # noqa: T201
        return 0 if args else 2
    if args[0] == "help":
        return main([args[1], "--help"]) if len(args) > 1 else main(["--help"])
    name, rest = args[0], args[1:]
    if name == "--version":
        name = "version"
    if name in OWN_HELP and rest[:1] in (["-h"], ["--help"]):
        print(OWN_HELP[name])  # noqa: T201
        return 0
    if name == "version":
        print(__version__)  # noqa: T201
        return 0
    if name == "manage":
        if not rest:
            print(OWN_HELP["manage"], file=sys.stderr)  # noqa: T201
            return 2
        return run_management_command(rest[0], rest[1:], prog="vexil manage")
    if name not in COMMANDS:
        print(f"vexil: unknown command {name!r}\n\n{usage()}", file=sys.stderr)  # noqa: T201
        return 2
    return run_management_command(COMMANDS[name][0], rest, prog="vexil", shown_as=name)


def run_management_command(
    command: str, args: list[str], *, prog: str, shown_as: str | None = None
) -> int:
    """Run a Django management command; its usage line reads ``<prog> <shown_as>``."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    try:
        import django
        from django.core.management import ManagementUtility

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
    utility = ManagementUtility([prog, command, *args])
    try:
        if command == "help":  # `vexil manage help [command]`: Django's own listing
            utility.execute()
            return 0
        handler = utility.fetch_command(command)
        handler.suppressed_base_arguments = set(HIDDEN_OPTIONS)
        handler.run_from_argv([prog, shown_as or command, *args])
    except SystemExit as exit_:
        return exit_.code if isinstance(exit_.code, int) else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
