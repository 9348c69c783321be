"""Reads of features for people (the dashboard): filtered, sorted, with their state in one
environment, in a fixed number of queries whatever the number of rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery

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


def environment_features(
    *, project: Project, environment: Environment, query: FeatureQuery
) -> QuerySet[Feature]:
    """The project's features matching ``query``, each with ``environment_state`` (a list of its
    default state in ``environment``), ``state_updated_at``, ``segment_override_count``, its tags
    and owners prefetched."""
    defaults = _environment_defaults(environment).filter(feature=OuterRef("pk"))
    features = Feature.objects.filter(project=project).annotate(
        state_updated_at=Subquery(defaults.values("updated_at")[:1]),
    )
    if query.search:
        features = features.filter(
            Q(name__icontains=query.search) | Q(description__icontains=query.search)
        )
    for tag_id in query.tag_ids:
        features = features.filter(tags__id=tag_id)
    if query.owner_id is not None:
        features = features.filter(owners__id=query.owner_id)
    if query.enabled is not None:
        features = features.filter(Exists(defaults.filter(enabled=query.enabled)))
    if query.archived is not None:
        features = features.filter(is_archived=query.archived)
    return features.order_by(*SORTS.get(query.sort, SORTS["name"])).prefetch_related(
        "tags",
        "owners",
        "multivariate_options",
        Prefetch(
            "feature_states",
            queryset=_environment_defaults(environment).prefetch_related(
                "multivariate_feature_state_values"
            ),
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
