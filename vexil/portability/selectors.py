"""Reads for feature exports and imports: the export file of an environment, and the lists."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db.models import Prefetch, QuerySet

from vexil.environments.models import Environment
from vexil.features.models import FeatureState, MultivariateFeatureStateValue
from vexil.permissions import selectors as permission_selectors
from vexil.permissions.principals import Principal
from vexil.portability.feature_file import entry_of
from vexil.portability.models import FeatureExport, FeatureImport
from vexil.projects.models import Project


def environment_feature_file(
    *, environment: Environment, tag_ids: Sequence[int] = ()
) -> list[dict[str, Any]]:
    """The environment's live defaults as a Flagsmith export file (two queries).

    Archived features and overrides are left out; with ``tag_ids``, only features carrying any
    of those tags are in it.
    """
    states = (
        FeatureState.objects.filter(
            environment=environment,
            identity__isnull=True,
            feature_segment__isnull=True,
            feature__is_archived=False,
        )
        .select_related("feature")
        .prefetch_related(
            Prefetch(
                "multivariate_feature_state_values",
                queryset=MultivariateFeatureStateValue.objects.select_related(
                    "multivariate_feature_option"
                ).order_by("multivariate_feature_option_id"),
            )
        )
        .order_by("feature_id")
    )
    if tag_ids:
        states = states.filter(feature__tags__id__in=list(tag_ids)).distinct()
    return [entry_of(state.feature, state) for state in states]


def _admin_environment_ids(principal: Principal, project: Project) -> list[int]:
    return [
        environment.pk
        for environment in project.environments.select_related("project")
        if permission_selectors.is_environment_admin(principal, environment)
    ]


def project_feature_exports(*, principal: Principal, project: Project) -> QuerySet[FeatureExport]:
    """A project's exports, newest first, of the environments ``principal`` administers."""
    ids = _admin_environment_ids(principal, project)
    return FeatureExport.objects.filter(environment_id__in=ids).defer("data")


def project_feature_imports(*, principal: Principal, project: Project) -> QuerySet[FeatureImport]:
    """A project's imports, newest first, of the environments ``principal`` administers."""
    ids = _admin_environment_ids(principal, project)
    return FeatureImport.objects.filter(environment_id__in=ids).defer("data")


def feature_export_for(*, principal: Principal, export_id: int) -> FeatureExport | None:
    """The export, if ``principal`` may see its environment (None otherwise, as unknown)."""
    visible = permission_selectors.environments_visible_to(principal)
    return (
        FeatureExport.objects.select_related("environment__project__organisation")
        .filter(pk=export_id, environment__in=visible)
        .first()
    )
