"""Keep Flagsmith's hashing inputs beside Vexil's ids (see vexil.evaluation.document).

Percentage splits and multivariate allocations hash on ids Flagsmith took from its own database:
a segment's id, a feature state's ``django_id``, the ids of a state's allocations (their order),
and for environments that do not hash on the composite key, an identity's id. These services
store them on the imported objects, so every identity keeps its bucket after the move.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.db import transaction

from vexil.environments.services import (
    environment_revision_bump,
    project_environments_revision_bump,
)
from vexil.features.models import FeatureState, MultivariateFeatureStateValue
from vexil.identities.models import Identity
from vexil.segments.models import Segment


@transaction.atomic
def segment_hashing_id_set(*, segment: Segment, hashing_id: int) -> bool:
    """Hash the segment's percentage splits on ``hashing_id``; whether anything changed."""
    if segment.hashing_id == hashing_id:
        return False
    segment.hashing_id = hashing_id
    segment.save(update_fields=["hashing_id"])
    project_environments_revision_bump(project_id=segment.project_id)
    return True


@transaction.atomic
def feature_state_hashing_ids_set(
    *, state: FeatureState, hashing_id: int, allocation_ids: Mapping[int, int]
) -> bool:
    """Seed the state's multivariate split with ``hashing_id`` and order its allocations by
    ``allocation_ids`` (option id -> Flagsmith's allocation id); whether anything changed."""
    changed = False
    if state.hashing_id != hashing_id:
        state.hashing_id = hashing_id
        state.save(update_fields=["hashing_id"])
        changed = True
    values = MultivariateFeatureStateValue.objects.filter(
        feature_state=state, multivariate_feature_option_id__in=list(allocation_ids)
    )
    for value in values:
        wanted = allocation_ids[value.multivariate_feature_option_id]
        if value.hashing_id != wanted:
            value.hashing_id = wanted
            value.save(update_fields=["hashing_id"])
            changed = True
    if changed:
        environment_revision_bump(environment_ids=[state.environment_id])
    return changed


@transaction.atomic
def identity_hashing_id_set(*, identity: Identity, hashing_id: int) -> bool:
    """Hash the identity on ``hashing_id`` where its environment hashes on identity ids."""
    if identity.hashing_id == hashing_id:
        return False
    identity.hashing_id = hashing_id
    identity.save(update_fields=["hashing_id"])
    # Identities' evaluated flags are cached per revision (vexil.sdk.results).
    environment_revision_bump(environment_ids=[identity.environment_id])
    return True


@transaction.atomic
def identities_hashing_ids_set(*, environment_id: int, hashing_ids: Mapping[int, int]) -> int:
    """Hash these identities of the environment (Vexil id -> Flagsmith's id) on Flagsmith's ids:
    one read, one bulk update and one revision bump, whatever their number; how many changed."""
    changed = [
        Identity(pk=pk, hashing_id=hashing_ids[pk])
        for pk, current in Identity.objects.filter(
            environment_id=environment_id, pk__in=list(hashing_ids)
        ).values_list("pk", "hashing_id")
        if current != hashing_ids[pk]
    ]
    if changed:
        Identity.objects.bulk_update(changed, ["hashing_id"], batch_size=500)
        environment_revision_bump(environment_ids=[environment_id])
    return len(changed)
