from __future__ import annotations

from collections.abc import Callable, Iterable

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from vexil.environments.models import Environment

RevisionListener = Callable[[list[int]], None]
_revision_listeners: list[RevisionListener] = []


def on_environment_revision(listener: RevisionListener) -> None:
    """Register a callback run, after commit, with the ids of environments whose revision moved.

    The SDK layer's caches subscribe here; this module never imports them.
    """
    _revision_listeners.append(listener)


def environment_revision_bump(*, environment_ids: Iterable[int]) -> None:
    """Advance ``revision`` and ``updated_at`` of these environments in the current transaction.

    Call it from every service whose change can alter an evaluation. Listeners hear about it once
    the transaction commits, so no cache is refreshed with data that may still roll back.
    """
    ids = sorted(set(environment_ids))
    if not ids:
        return
    Environment.objects.filter(id__in=ids).update(
        revision=F("revision") + 1, updated_at=timezone.now()
    )
    transaction.on_commit(lambda: _notify(ids))


def project_environments_revision_bump(*, project_id: int) -> None:
    """For project-wide changes (segments, features): every environment of the project moves."""
    environment_revision_bump(
        environment_ids=Environment.objects.filter(project_id=project_id).values_list(
            "id", flat=True
        )
    )


def _notify(ids: list[int]) -> None:
    for listener in _revision_listeners:
        listener(ids)
