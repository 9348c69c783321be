from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from vexil.users.two_factor import totp_secrets_reencrypt


class Command(BaseCommand):
    help = (
        "Re-encrypt every two-factor secret under the current DJANGO_SECRET_KEY, after a key "
        "rotation; then the old key can be removed from DJANGO_SECRET_KEY_FALLBACKS."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        count = totp_secrets_reencrypt()
        self.stdout.write(f"Re-encrypted {count} two-factor secret(s) under the current key.")
