"""``python -m tests.sso.provider '<json>'``: set up and serve the test OIDC provider.

The JSON names ``port``, ``database`` (a new SQLite file), ``client_id``, ``client_secret``,
``redirect_uris`` and ``users`` (``email``, ``password``, optional ``last_name``).
"""

from __future__ import annotations

import json
import os
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa


def _rsa_key() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


def main() -> None:
    config = json.loads(sys.argv[1])
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.sso.provider.settings"
    os.environ["PROVIDER_DATABASE"] = config["database"]
    os.environ["PROVIDER_RSA_KEY"] = _rsa_key()
    os.environ["PROVIDER_ISSUER"] = f"http://127.0.0.1:{config['port']}/o"

    import django

    django.setup()
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application
    from oauth2_provider.models import Application

    call_command("migrate", verbosity=0, interactive=False)
    for person in config["users"]:
        User.objects.create_user(
            username=person["email"],
            email=person["email"],
            password=person["password"],
            first_name=person.get("first_name", ""),
            last_name=person.get("last_name", ""),
        )
    Application.objects.create(
        name="Vexil",
        client_id=config["client_id"],
        client_secret=config["client_secret"],
        client_type=Application.CLIENT_CONFIDENTIAL,
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=" ".join(config["redirect_uris"]),
        algorithm=Application.RS256_ALGORITHM,
        skip_authorization=True,
    )
    run("127.0.0.1", int(config["port"]), get_wsgi_application(), threading=True)


if __name__ == "__main__":
    main()
