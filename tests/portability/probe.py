"""What every environment of an install answers the SDKs, as one JSON-able value.

For each environment (by client key): the environment document, the ``/api/v1/flags/`` bodies
(client and server key), and the evaluated flags of every stored identity and of a few
transient identities with traits, as remote evaluation serves them. Two installs that answer
the same to every SDK give the same value. Run as ``python -m tests.portability.probe`` to print
it for the install the environment configures (``DATABASE_URL`` / ``VEXIL_DATA_DIR``).
"""

from __future__ import annotations

import dataclasses
import os
import sys
from typing import Any

import orjson

TRANSIENT = [
    ("visitor-1", {}),
    ("visitor-2", {"plan": "pro", "age": 33, "beta": True}),
    ("someone@example.com", {"country": "fr", "score": 2.5}),
]


def _flags(environment_id: int, identifier: str, traits: dict[str, Any]) -> list[Any]:
    from vexil.evaluation.explain import evaluation_preview
    from vexil.identities.identify import TraitInput

    preview = evaluation_preview(
        environment_id=environment_id,
        identifier=identifier,
        traits=[TraitInput(key, value) for key, value in traits.items()],
    )
    return [dataclasses.asdict(flag) for flag in preview.flags]


def install_answers() -> dict[str, Any]:
    from vexil.environments.models import Environment
    from vexil.identities.models import Identity
    from vexil.sdk.snapshot import build_snapshot

    answers: dict[str, Any] = {}
    for environment in Environment.objects.order_by("id"):
        snapshot = build_snapshot(environment.pk)
        identifiers = Identity.objects.filter(environment=environment).order_by("id")
        answers[environment.api_key] = {
            "document": orjson.loads(snapshot.document_body),
            "flags": [orjson.loads(snapshot.flags_body[key]) for key in (False, True)],
            "updated_at": snapshot.updated_at_header,
            "identities": {
                identifier: _flags(environment.pk, identifier, {})
                for identifier in identifiers.values_list("identifier", flat=True)
            },
            "transient": [_flags(environment.pk, i, traits) for i, traits in TRANSIENT],
        }
    return orjson.loads(orjson.dumps(answers, default=str))


if __name__ == "__main__":
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "vexil.settings")
    django.setup()
    sys.stdout.buffer.write(orjson.dumps(install_answers(), option=orjson.OPT_SORT_KEYS))
