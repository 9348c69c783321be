"""Reads of features for people (the dashboard): filtered, sorted, with their state in one
environment, in a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.db.models import OuterRef, Prefetch, Q, QuerySet, Subquery

from vexil.environments.models import Environment
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    MultivariateFeatureOption,
)
from vexil.projects.models import Project
from vexil.segments.models import Segment
from vexil.tags.models import Tag
from vexil.users.models import User

SORTS: Final = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "created": ("created_date", "id"),
    "-created": ("-created_date", "-id"),
    "changed": ("state_updated_at", "id"),
    "-changed": ("-state_updated_at", "-id"),
}


@dataclass(frozen=True)
class FeatureQuery:
    """What a features list shows: a name search, filters, and a sort key of :data:`SORTS`.

    ``archived``: False hides archived features (the default), True shows only them, None both.
    ``enabled``: None for either; True or False for the state in the environment.
    """

    search: str = ""
    tag_ids: tuple[int, ...] = ()
    owner_id: int | None = None
    enabled: bool | None = None
    archived: bool | None = False
    sort: str = "name"


def _environment_defaults(environment: Environment) -> QuerySet[FeatureState]:
    return FeatureState.objects.filter(
        environment=environment, identity__isnull=True, feature_segment__isnull=True
    )


#: What a row of the list prints of a feature, of its owners and tags, and of its state.
_LIST_FEATURE_FIELDS: Final = ("id", "project_id", "name", "type", "description", "is_archived")
_LIST_STATE_FIELDS: Final = (
    "id",
    "feature_id",
    "enabled",
    "updated_at",
    *FeatureState.VALUE_FIELDS,
)


def _state_column(environment: Environment, column: str) -> Subquery:
    """A column of the feature's default state in ``environment``, as a scalar subquery.

    A scalar subquery, not a join or ``EXISTS``: PostgreSQL turns those into joins whose plan
    depends on the tables' statistics (before the first ANALYZE it scanned every state of the
    environment once per feature: 0.5 s at 1,000 features), whereas a scalar subquery can
    only be run per feature, one lookup in the unique index of default states."""
    defaults = _environment_defaults(environment).filter(feature=OuterRef("pk")).order_by()
    return Subquery(defaults.values(column)[:1])


def environment_features(
    *, project: Project, environment: Environment, query: FeatureQuery
) -> QuerySet[Feature]:
    """The project's features matching ``query``, each with ``environment_state`` (a list of its
    default state in ``environment``), ``tag_list`` and ``owner_list``; only the columns the
    list and the export print are loaded."""
    features = Feature.objects.filter(project=project).only(*_LIST_FEATURE_FIELDS)
    if query.search:
        features = features.filter(
            Q(name__icontains=query.search) | Q(description__icontains=query.search)
        )
    for tag_id in query.tag_ids:
        features = features.filter(tags__id=tag_id)
    if query.owner_id is not None:
        features = features.filter(owners__id=query.owner_id)
    if query.enabled is not None:
        features = features.alias(state_enabled=_state_column(environment, "enabled")).filter(
            state_enabled=query.enabled
        )
    if query.archived is not None:
        features = features.filter(is_archived=query.archived)
    sort = SORTS.get(query.sort, SORTS["name"])
    if "state_updated_at" in sort[0]:
        features = features.alias(state_updated_at=_state_column(environment, "updated_at"))
    # Prefetched into plain lists (to_attr): a template reading ``feature.tags.all`` would build
    # a queryset per row, which at 50 rows costs more than the queries themselves.
    return features.order_by(*sort).prefetch_related(
        Prefetch(
            "tags", queryset=Tag.objects.only("id", "label").order_by("label"), to_attr="tag_list"
        ),
        Prefetch(
            "owners",
            queryset=User.objects.only("id", "email").order_by("email"),
            to_attr="owner_list",
        ),
        Prefetch(
            "feature_states",
            queryset=_environment_defaults(environment).only(*_LIST_STATE_FIELDS),
            to_attr="environment_state",
        ),
    )


def feature_of_project(*, project: Project, feature_id: int) -> Feature | None:
    return Feature.objects.filter(project=project, pk=feature_id).first()


def feature_environment_state(*, feature: Feature, environment: Environment) -> FeatureState:
    """A feature's default state in an environment (every feature has one in each)."""
    return (
        _environment_defaults(environment)
        .filter(feature=feature)
        .select_related("feature", "environment__project")
        .prefetch_related("multivariate_feature_state_values__multivariate_feature_option")
        .get()
    )


def feature_states_across(
    *, feature: Feature, environments: list[Environment]
) -> list[FeatureState]:
    """The feature's default state in each of ``environments``, in their order."""
    by_environment = {
        state.environment_id: state
        for state in FeatureState.objects.filter(
            feature=feature,
            environment__in=environments,
            identity__isnull=True,
            feature_segment__isnull=True,
        )
    }
    return [by_environment[e.pk] for e in environments if e.pk in by_environment]


def segment_overrides_of(*, feature: Feature, environment: Environment) -> list[FeatureSegment]:
    """The feature's segment overrides in an environment, strongest first, with their states."""
    return list(
        FeatureSegment.objects.filter(feature=feature, environment=environment)
        .select_related("segment")
        .prefetch_related("feature_states__multivariate_feature_state_values")
        .order_by("priority", "id")
    )


def project_owners(*, project: Project) -> QuerySet[User]:
    """Users who may own a project's features: members of its organisation."""
    return User.objects.filter(memberships__organisation_id=project.organisation_id).order_by(
        "email"
    )


def project_tags(*, project: Project) -> QuerySet[Tag]:
    return Tag.objects.filter(project=project).order_by("label")


def segments_for_overrides(*, feature: Feature) -> QuerySet[Segment]:
    """Segments that may override ``feature``: the project's, and those specific to it."""
    return (
        Segment.objects.filter(project_id=feature.project_id)
        .filter(Q(feature__isnull=True) | Q(feature=feature))
        .order_by("name", "id")
    )


def feature_options(*, feature: Feature) -> list[MultivariateFeatureOption]:
    return list(MultivariateFeatureOption.objects.filter(feature=feature).order_by("id"))


# --- The feature list of an environment, as exported (CSV, XLSX, JSON) ---------------------------

FEATURE_EXPORT_COLUMNS: Final = (
    "name",
    "type",
    "enabled",
    "value",
    "tags",
    "owners",
    "segment_overrides",
    "description",
    "archived",
)


def _override_text(feature_segment: FeatureSegment) -> str:
    states = list(feature_segment.feature_states.all())
    if not states:
        return feature_segment.segment.name
    state = states[0]
    switch = "on" if state.enabled else "off"
    return f"{feature_segment.segment.name}: {switch}, {state.value!r}"


def environment_feature_export_rows(*, environment: Environment) -> list[tuple[object, ...]]:
    """One row per feature of the environment's project (:data:`FEATURE_EXPORT_COLUMNS`),
    archived ones included, by name; segment overrides strongest first. Five queries."""
    features = environment_features(
        project=environment.project, environment=environment, query=FeatureQuery(archived=None)
    )
    overrides: dict[int, list[str]] = {}
    for feature_segment in (
        FeatureSegment.objects.filter(environment=environment)
        .select_related("segment")
        .prefetch_related("feature_states")
        .order_by("feature_id", "priority", "id")
    ):
        overrides.setdefault(feature_segment.feature_id, []).append(_override_text(feature_segment))
    rows: list[tuple[object, ...]] = []
    for feature in features:
        state = feature.environment_state[0] if feature.environment_state else None  # type: ignore[attr-defined]
        rows.append(
            (
                feature.name,
                feature.type,
                state.enabled if state is not None else None,
                state.value if state is not None else None,
                sorted(tag.label for tag in feature.tag_list),  # type: ignore[attr-defined]
                sorted(owner.email for owner in feature.owner_list),  # type: ignore[attr-defined]
                "; ".join(overrides.get(feature.pk, [])),
                feature.description,
                feature.is_archived,
            )
        )
    return rows
