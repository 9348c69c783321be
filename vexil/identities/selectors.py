"""Reads of identities and their traits."""

from __future__ import annotations

from vexil.environments.models import Environment
from vexil.identities.models import Trait


def environment_trait_keys(environment: Environment) -> list[str]:
    """The distinct trait keys of the environment's identities, sorted: one query."""
    return list(
        Trait.objects.filter(identity__environment=environment)
        .order_by("trait_key")
        .values_list("trait_key", flat=True)
        .distinct()
    )
