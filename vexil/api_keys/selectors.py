from __future__ import annotations

from django.db.models import QuerySet

from vexil.api_keys.models import MasterAPIKey


def master_api_keys_of(organisation_id: int) -> QuerySet[MasterAPIKey]:
    """The organisation's keys that can still be used or changed (revoked keys are history)."""
    return MasterAPIKey.objects.filter(organisation_id=organisation_id, revoked=False)
