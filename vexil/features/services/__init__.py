"""Writes for features, multivariate options, feature states and segment overrides.

Every function here is the only writer of its rows. Each validates, writes, advances the
revision of every environment whose evaluation can change, and records an audit row, all in
one transaction. Validation failures raise Django's ``ValidationError`` keyed by field.

One module per sub-domain; this package re-exports their public names, so callers import
from ``vexil.features.services``.
"""

from vexil.features.services.common import ALLOCATION_TOLERANCE, UNSET, Allocation, OptionSpec
from vexil.features.services.features import (
    feature_create,
    feature_delete,
    feature_owners_add,
    feature_owners_remove,
    feature_update,
    features_bulk_create,
)
from vexil.features.services.identity_overrides import (
    identity_override_create,
    identity_overrides_clone,
    override_state_delete,
)
from vexil.features.services.options import mv_option_create, mv_option_delete, mv_option_update
from vexil.features.services.segment_overrides import (
    feature_segment_create,
    feature_segment_delete,
    feature_segment_priorities_update,
    segment_override_create,
    segment_override_state_create,
)
from vexil.features.services.states import StaleFeatureStateError, feature_state_update

__all__ = [
    "ALLOCATION_TOLERANCE",
    "UNSET",
    "Allocation",
    "OptionSpec",
    "StaleFeatureStateError",
    "feature_create",
    "feature_delete",
    "feature_owners_add",
    "feature_owners_remove",
    "feature_segment_create",
    "feature_segment_delete",
    "feature_segment_priorities_update",
    "feature_state_update",
    "feature_update",
    "features_bulk_create",
    "identity_override_create",
    "identity_overrides_clone",
    "mv_option_create",
    "mv_option_delete",
    "mv_option_update",
    "override_state_delete",
    "segment_override_create",
    "segment_override_state_create",
]
