from __future__ import annotations

from argparse import ArgumentParser
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from vexil.audit.services import SYSTEM
from vexil.common.fields import ID_MAX
from vexil.common.mail import public_base_url
from vexil.invites import services
from vexil.invites.models import Invite
from vexil.organisations.models import Organisation, OrganisationRole


class Command(BaseCommand):
    help = (
        "Add a person to an organisation with a role. An existing account becomes a member at "
        "once; for an address without an account, an invite is made and its link printed (and "
        "e-mailed, unless --no-email). The change is audited as made by the system."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--organisation", required=True, help="the organisation's id or its exact name"
        )
        parser.add_argument("--email", required=True, help="the person's e-mail address")
        parser.add_argument(
            "--role",
            default=OrganisationRole.USER,
            type=str.upper,
            choices=OrganisationRole.values,
            help="ADMIN or USER (default: USER)",
        )
        parser.add_argument(
            "--no-email",
            action="store_true",
            help="do not e-mail an invite (print its link only)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        organisation = _organisation(options["organisation"])
        email = options["email"].strip()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"{email!r} is not an e-mail address.") from None
        try:
            added = services.member_add_or_invite(
                organisation=organisation,
                email=email,
                role=options["role"],
                actor=SYSTEM,
                send_email=not options["no_email"],
            )
        except services.InviteRefusedError as error:
            raise CommandError(error.message) from None
        except ValidationError as error:
            raise CommandError(" ".join(_messages(error))) from None
        if isinstance(added, Invite):
            self._invited(added, organisation)
        else:
            self.stdout.write(f"Added {email} to {organisation.name!r} as {added.role}.")

    def _invited(self, invite: Invite, organisation: Organisation) -> None:
        expires = invite.expires_at.strftime("%Y-%m-%d %H:%M UTC") if invite.expires_at else "-"
        self.stdout.write(
            f"{invite.email} has no account: invited to {organisation.name!r} as {invite.role}."
        )
        self.stdout.write(f"Invite link (works once, until {expires}):")
        self.stdout.write(services.invite_url(invite, public_base_url()))


def _organisation(value: str) -> Organisation:
    found = Organisation.objects.filter(name=value)
    if value.isdigit() and int(value) <= ID_MAX:
        found = Organisation.objects.filter(pk=int(value)) | found
    organisations = list(found[:2])
    if len(organisations) == 1:
        return organisations[0]
    if not organisations:
        raise CommandError(f"No organisation {value!r} (give its id or exact name).")
    raise CommandError(f"Several organisations are named {value!r}: give the id.")


def _messages(error: ValidationError) -> list[str]:
    if hasattr(error, "error_dict"):
        return [message for messages in error.message_dict.values() for message in messages]
    return list(error.messages)
