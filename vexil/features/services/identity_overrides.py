"""Identity overrides: create, copy between identities; deleting any override state."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from vexil.audit.models import AuditAction
from vexil.audit.services import Actor, audit_record
from vexil.environments.models import Environment
from vexil.environments.services import (
    environment_revision_bump,
)
from vexil.features.models import (
    Feature,
    FeatureState,
    FeatureValue,
)
from vexil.features.services.common import (
    _invalid,
)
from vexil.features.services.segment_overrides import feature_segment_delete
from vexil.features.services.states import _override_state_create, _state_audit, _state_snapshot
from vexil.identities.models import Identity
from vexil.webhooks import services as webhook_services


@transaction.atomic
def identity_override_create(
    *,
    feature: Feature,
    identity_id: int,
    environment: Environment,
    actor: Actor,
    enabled: bool = False,
    value: FeatureValue = None,
) -> FeatureState:
    """An identity's own state of a feature: it beats segment overrides and the default."""
    if feature.project_id != environment.project_id:
        raise _invalid("feature", "The feature must belong to the identity's project.")
    state = _override_state_create(
        feature=feature,
        environment=environment,
        identity_id=identity_id,
        enabled=enabled,
        value=value,
    )
    environment_revision_bump(environment_ids=[environment.pk])
    _state_audit(state, actor, AuditAction.CREATE, after=_state_snapshot(state))
    change = webhook_services.flag_change_begin(environment=environment, state=None)
    webhook_services.flag_updated(change=change, state=state, actor=actor)
    return state


@transaction.atomic
def override_state_delete(*, feature_state: FeatureState, actor: Actor) -> None:
    """Delete an identity override or a segment override's state (never an env default)."""
    if feature_state.is_environment_default:
        raise _invalid("non_field_errors", "Environment defaults cannot be deleted.")
    before = _state_snapshot(feature_state)
    state_id = feature_state.pk
    change = None
    if feature_state.feature_segment_id is not None:
        # Its webhook event is feature_segment_delete's.
        feature_segment_delete(feature_segment=feature_state.feature_segment, actor=actor)  # type: ignore[arg-type]
    else:
        change = webhook_services.flag_change_begin(
            environment=feature_state.environment, state=feature_state
        )
        feature_state.delete()
    feature_state.pk = state_id
    environment_revision_bump(environment_ids=[feature_state.environment_id])
    _state_audit(feature_state, actor, AuditAction.DELETE, before=before)
    if change is not None:
        webhook_services.flag_deleted(change=change, actor=actor)


# --- Identity overrides, copied -------------------------------------------------------------------


@transaction.atomic
def identity_overrides_clone(
    *, source_id: int, target: Identity, actor: Actor
) -> list[FeatureState]:
    """Replace ``target``'s identity overrides with copies of ``source``'s (Flagsmith's
    ``clone-from-given-identity``). Both identities must be in the same environment."""
    environment = target.environment
    source = Identity.objects.filter(environment=environment, pk=source_id).first()
    if source is None:
        raise _invalid("source_identity_id", f'Invalid pk "{source_id}" - object does not exist.')
    if source.pk == target.pk:
        raise _invalid("source_identity_id", "An identity cannot be cloned from itself.")
    before = _identity_overrides_snapshot(target)
    FeatureState.objects.filter(identity=target).delete()
    copies = []
    for state in FeatureState.objects.filter(identity=source).order_by("id"):
        copy = FeatureState(
            feature_id=state.feature_id,
            environment=environment,
            identity=target,
            enabled=state.enabled,
        )
        copy.set_value(state.value)
        copies.append(copy)
    FeatureState.objects.bulk_create(copies)
    environment_revision_bump(environment_ids=[environment.pk])
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        resource_type="identity",
        resource_id=target.pk,
        log=f"Identity overrides of {target.identifier!r} copied from {source.identifier!r}",
        organisation_id=environment.project.organisation_id,
        environment=environment,
        before=before,
        after=_identity_overrides_snapshot(target),
    )
    return list(FeatureState.objects.filter(identity=target).order_by("id"))


def _identity_overrides_snapshot(identity: Identity) -> dict[str, Any]:
    return {
        "overrides": {
            str(state.feature_id): state.snapshot()
            for state in FeatureState.objects.filter(identity=identity).order_by("id")
        }
    }
