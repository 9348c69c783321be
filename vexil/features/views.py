"""Management API for features, multivariate options, feature states and segment overrides."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, cast

from django.db.models import Prefetch, QuerySet
from django.http import Http404
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer
from rest_framework.views import APIView

from vexil.audit.actors import actor_of
from vexil.environments.models import Environment
from vexil.environments.scoping import EnvironmentFromURL, ProjectFromURL, principal_or_404
from vexil.features import services
from vexil.features.filters import (
    FeatureFilter,
    FeatureSegmentFilter,
    FeatureStateFilter,
    GenericFeatureStateFilter,
)
from vexil.features.models import (
    Feature,
    FeatureSegment,
    FeatureState,
    MultivariateFeatureOption,
    MultivariateFeatureStateValue,
)
from vexil.features.serializers import (
    FeatureSegmentSerializer,
    FeatureSegmentUpdateSerializer,
    FeatureSerializer,
    FeatureStateCreateSerializer,
    FeatureStateSerializer,
    MultivariateOptionSerializer,
    PriorityItemSerializer,
    SegmentOverrideCreateSerializer,
)
from vexil.organisations.serializers import UserIdsInputSerializer
from vexil.permissions import selectors
from vexil.permissions.drf import HasEnvironmentPermission, HasProjectPermission
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission
from vexil.segments.models import Segment

_WRITE_FEATURE = {
    "create": ProjectPermission.CREATE_FEATURE,
    "update": ProjectPermission.CREATE_FEATURE,
    "partial_update": ProjectPermission.CREATE_FEATURE,
}


def require_environment_permission(request: Request, environment: Environment, key: str) -> None:
    if not selectors.has_environment_permission(principal_or_404(request), environment, key):
        raise PermissionDenied


def _invalid_pk(field: str, value: object) -> ValidationError:
    return ValidationError({field: [f'Invalid pk "{value}" - object does not exist.']})


def _option_spec(data: dict[str, Any]) -> services.OptionSpec:
    return services.OptionSpec(
        value=data.get("value"),
        default_percentage_allocation=data.get("default_percentage_allocation", 100),
        key=data.get("key"),
    )


def _allocations(feature_id: int, items: Sequence[dict[str, Any]]) -> list[services.Allocation]:
    """Resolve ``[{multivariate_feature_option, percentage_allocation}]`` against the feature."""
    options = {
        option.pk: option
        for option in MultivariateFeatureOption.objects.filter(feature_id=feature_id)
    }
    allocations = []
    for item in items:
        option = options.get(item["multivariate_feature_option"])
        if option is None:
            raise _invalid_pk(
                "multivariate_feature_state_values", item["multivariate_feature_option"]
            )
        allocations.append(services.Allocation(option, item["percentage_allocation"]))
    return allocations


def states_with_relations(queryset: QuerySet[FeatureState]) -> QuerySet[FeatureState]:
    return queryset.select_related("feature_segment__segment").prefetch_related(
        Prefetch(
            "multivariate_feature_state_values",
            queryset=MultivariateFeatureStateValue.objects.order_by("id"),
        )
    )


def state_update_from_request(request: Request, state: FeatureState, *, partial: bool) -> None:
    serializer = FeatureStateSerializer(state, data=request.data, partial=partial)
    serializer.is_valid(raise_exception=True)
    data = serializer.validated_data
    changes: dict[str, Any] = {}
    if "enabled" in data:
        changes["enabled"] = data["enabled"]
    if "value" in data:
        changes["value"] = data["value"]
    if data.get("multivariate_feature_state_values"):
        changes["allocations"] = _allocations(
            state.feature_id, data["multivariate_feature_state_values"]
        )
    services.feature_state_update(feature_state=state, actor=actor_of(request), **changes)


def state_response(state: FeatureState, code: int = status.HTTP_200_OK) -> Response:
    fresh = states_with_relations(FeatureState.objects.filter(pk=state.pk)).get()
    return Response(FeatureStateSerializer(fresh).data, status=code)


# --- Features -------------------------------------------------------------------------------------


class FeatureViewSet(ProjectFromURL, viewsets.ModelViewSet):
    """``projects/{id}/features/``; with ``?environment=<id>`` each feature carries that
    environment's state as ``environment_feature_state``."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = Feature.objects.none()

    serializer_class = FeatureSerializer
    filterset_class = FeatureFilter
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions = {
        **_WRITE_FEATURE,
        "destroy": ProjectPermission.DELETE_FEATURE,
        "add_owners": ProjectPermission.CREATE_FEATURE,
        "remove_owners": ProjectPermission.CREATE_FEATURE,
    }

    def get_queryset(self) -> QuerySet[Feature]:
        queryset = Feature.objects.filter(project=self.get_project()).prefetch_related(
            "tags", "owners", "multivariate_options"
        )
        environment_id = self.request.query_params.get("environment")
        if environment_id and self.action == "list":
            environment = self._environment_of_project(environment_id)
            queryset = queryset.prefetch_related(
                Prefetch(
                    "feature_states",
                    queryset=FeatureState.objects.filter(
                        environment=environment, identity=None, feature_segment=None
                    ),
                    to_attr="environment_states",
                )
            )
        return queryset

    def _environment_of_project(self, environment_id: str) -> Environment:
        environments = selectors.environments_visible_to(principal_or_404(self.request))
        environment = environments.filter(
            project=self.get_project(), pk=environment_id if environment_id.isdigit() else -1
        ).first()
        if environment is None:
            raise _invalid_pk("environment", environment_id)
        return environment

    def get_serializer_context(self) -> dict[str, Any]:
        context = dict(super().get_serializer_context())
        if "project_pk" in self.kwargs:
            context["project"] = self.get_project()
        return context

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        options = [_option_spec(o) for o in data.pop("multivariate_options", [])]
        serializer.instance = services.feature_create(
            project=self.get_project(),
            actor=actor_of(self.request),
            multivariate_options=options,
            **data,
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = dict(serializer.validated_data)
        data.pop("multivariate_options", None)
        serializer.instance = services.feature_update(
            feature=cast(Feature, serializer.instance), actor=actor_of(self.request), **data
        )

    def perform_destroy(self, instance: Feature) -> None:
        services.feature_delete(feature=instance, actor=actor_of(self.request))

    @extend_schema(request=UserIdsInputSerializer, responses={200: FeatureSerializer})
    @action(detail=True, methods=["post"], url_path="add-owners")
    def add_owners(self, request: Request, project_pk: str, pk: str) -> Response:
        """Make members of the organisation owners of the feature: ``{"user_ids": [...]}``."""
        return self._change_owners(request, services.feature_owners_add)

    @extend_schema(request=UserIdsInputSerializer, responses={200: FeatureSerializer})
    @action(detail=True, methods=["post"], url_path="remove-owners")
    def remove_owners(self, request: Request, project_pk: str, pk: str) -> Response:
        """Remove owners of the feature: ``{"user_ids": [...]}``; non-owners are ignored."""
        return self._change_owners(request, services.feature_owners_remove)

    def _change_owners(self, request: Request, change: Callable[..., Feature]) -> Response:
        feature = self.get_object()
        serializer = UserIdsInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        change(
            feature=feature,
            user_ids=serializer.validated_data["user_ids"],
            actor=actor_of(request),
        )
        fresh = self.get_queryset().get(pk=feature.pk)
        return Response(self.get_serializer(fresh).data)


class MultivariateOptionViewSet(ProjectFromURL, viewsets.ModelViewSet):
    """``projects/{id}/features/{fid}/mv-options/``."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = MultivariateFeatureOption.objects.none()

    serializer_class = MultivariateOptionSerializer
    permission_classes = [IsAuthenticated, HasProjectPermission]
    project_permissions = {**_WRITE_FEATURE, "destroy": ProjectPermission.CREATE_FEATURE}
    pagination_class = None

    def get_feature(self) -> Feature:
        if not hasattr(self, "_feature"):
            feature_pk = self.kwargs["feature_pk"]
            feature = Feature.objects.filter(project=self.get_project(), pk=feature_pk).first()
            if feature is None:
                raise Http404
            self._feature = feature
        return self._feature

    def get_queryset(self) -> QuerySet[MultivariateFeatureOption]:
        return MultivariateFeatureOption.objects.filter(feature=self.get_feature())

    def perform_create(self, serializer: BaseSerializer) -> None:
        serializer.instance = services.mv_option_create(
            feature=self.get_feature(),
            spec=_option_spec(serializer.validated_data),
            actor=actor_of(self.request),
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        data = serializer.validated_data
        changes: dict[str, Any] = {}
        if "value" in data:
            changes["value"] = data["value"]
        if "key" in data:
            changes["key"] = data["key"]
        if "default_percentage_allocation" in data:
            changes["default_percentage_allocation"] = data["default_percentage_allocation"]
        serializer.instance = services.mv_option_update(
            option=cast(MultivariateFeatureOption, serializer.instance),
            actor=actor_of(self.request),
            **changes,
        )

    def perform_destroy(self, instance: MultivariateFeatureOption) -> None:
        services.mv_option_delete(option=instance, actor=actor_of(self.request))


# --- Feature states -------------------------------------------------------------------------------


class EnvironmentFeatureStateViewSet(
    EnvironmentFromURL,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """``environments/{api_key}/featurestates/``: the environment defaults."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = FeatureState.objects.none()

    serializer_class = FeatureStateSerializer
    filterset_class = FeatureStateFilter
    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {
        "update": EnvironmentPermission.UPDATE_FEATURE_STATE,
        "partial_update": EnvironmentPermission.UPDATE_FEATURE_STATE,
    }

    def get_queryset(self) -> QuerySet[FeatureState]:
        return states_with_relations(
            FeatureState.objects.filter(
                environment=self.get_environment(), identity=None, feature_segment=None
            )
        )

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        state = self.get_object()
        state_update_from_request(request, state, partial=kwargs.get("partial", False))
        return state_response(state)


class FeatureStateViewSet(viewsets.ModelViewSet):
    """``features/featurestates/``: create segment overrides' states; update or delete any state
    the requester may change (identity overrides live under the identity's own endpoint)."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = FeatureState.objects.none()

    serializer_class = FeatureStateSerializer
    filterset_class = GenericFeatureStateFilter
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[FeatureState]:
        environments = selectors.environments_visible_to(principal_or_404(self.request))
        return states_with_relations(
            FeatureState.objects.filter(environment__in=environments, identity=None)
        )

    def _require_change(self, state: FeatureState) -> None:
        key = (
            EnvironmentPermission.UPDATE_FEATURE_STATE
            if state.is_environment_default
            else EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES
        )
        require_environment_permission(self.request, state.environment, key)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = FeatureStateCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if data.get("identity") is not None:
            raise ValidationError(
                {"identity": ["Create identity overrides under the identity's featurestates/."]}
            )
        if data.get("feature_segment") is None:
            raise ValidationError(
                {"feature_segment": ["Only segment overrides' states can be created here."]}
            )
        fs = (
            FeatureSegment.objects.filter(
                pk=data["feature_segment"],
                environment__in=selectors.environments_visible_to(principal_or_404(request)),
            )
            .select_related("feature", "environment__project", "segment")
            .first()
        )
        if fs is None:
            raise _invalid_pk("feature_segment", data["feature_segment"])
        if (fs.feature_id, fs.environment_id) != (data["feature"], data["environment"]):
            raise ValidationError(
                {"feature_segment": ["It must belong to the given feature and environment."]}
            )
        require_environment_permission(
            request, fs.environment, EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES
        )
        state = services.segment_override_state_create(
            feature_segment=fs,
            actor=actor_of(request),
            enabled=data["enabled"],
            value=data["feature_state_value"],
            allocations=_allocations(
                fs.feature_id, data.get("multivariate_feature_state_values") or []
            ),
        )
        return state_response(state, status.HTTP_201_CREATED)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        state = self.get_object()
        self._require_change(state)
        state_update_from_request(request, state, partial=kwargs.get("partial", False))
        return state_response(state)

    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        state = self.get_object()
        self._require_change(state)
        services.override_state_delete(feature_state=state, actor=actor_of(request))
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Segment overrides ----------------------------------------------------------------------------


class FeatureSegmentViewSet(viewsets.ModelViewSet):
    """``features/feature-segments/`` (``?environment=&feature=``) and ``update-priorities/``."""

    # Read by the schema generator only; get_queryset narrows every real request.
    queryset = FeatureSegment.objects.none()

    serializer_class = FeatureSegmentSerializer
    filterset_class = FeatureSegmentFilter
    permission_classes = [IsAuthenticated]

    def get_queryset(self) -> QuerySet[FeatureSegment]:
        environments = selectors.environments_visible_to(principal_or_404(self.request))
        return FeatureSegment.objects.filter(environment__in=environments).select_related(
            "segment", "feature", "environment__project"
        )

    def get_serializer_class(self) -> type[BaseSerializer]:
        if self.action in ("update", "partial_update"):
            return FeatureSegmentUpdateSerializer
        return FeatureSegmentSerializer

    def _require_manage(self, environment: Environment) -> None:
        require_environment_permission(
            self.request, environment, EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES
        )

    def perform_create(self, serializer: BaseSerializer) -> None:
        data = serializer.validated_data
        principal = principal_or_404(self.request)
        environment = (
            selectors.environments_visible_to(principal)
            .select_related("project")
            .filter(pk=data["environment_id"])
            .first()
        )
        if environment is None:
            raise _invalid_pk("environment", data["environment_id"])
        feature = Feature.objects.filter(
            project_id=environment.project_id, pk=data["feature_id"]
        ).first()
        if feature is None:
            raise _invalid_pk("feature", data["feature_id"])
        segment = Segment.objects.filter(
            project_id=environment.project_id, pk=data["segment_id"]
        ).first()
        if segment is None:
            raise _invalid_pk("segment", data["segment_id"])
        self._require_manage(environment)
        serializer.instance = services.feature_segment_create(
            feature=feature,
            segment=segment,
            environment=environment,
            priority=data.get("priority"),
            actor=actor_of(self.request),
        )

    def perform_update(self, serializer: BaseSerializer) -> None:
        fs: FeatureSegment = serializer.instance  # type: ignore[assignment]
        self._require_manage(fs.environment)
        priority = serializer.validated_data.get("priority")
        if priority is not None:
            services.feature_segment_priorities_update(
                priorities=[(fs, priority)], actor=actor_of(self.request)
            )
            fs.refresh_from_db(fields=["priority"])

    def perform_destroy(self, instance: FeatureSegment) -> None:
        self._require_manage(instance.environment)
        services.feature_segment_delete(feature_segment=instance, actor=actor_of(self.request))

    @extend_schema(
        request=PriorityItemSerializer(many=True),
        responses={200: FeatureSegmentSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], url_path="update-priorities", pagination_class=None)
    def update_priorities(self, request: Request) -> Response:
        items = PriorityItemSerializer(data=request.data, many=True)
        items.is_valid(raise_exception=True)
        wanted = {item["id"]: item["priority"] for item in items.validated_data}
        if len(wanted) != len(items.validated_data):
            raise ValidationError({"id": ["Each segment override may appear once."]})
        found = {fs.pk: fs for fs in self.get_queryset().filter(pk__in=wanted)}
        missing = sorted(set(wanted) - set(found))
        if missing:
            raise _invalid_pk("id", missing[0])
        for environment in {fs.environment_id: fs.environment for fs in found.values()}.values():
            self._require_manage(environment)
        updated = services.feature_segment_priorities_update(
            priorities=[(found[pk], priority) for pk, priority in wanted.items()],
            actor=actor_of(request),
        )
        return Response(
            FeatureSegmentSerializer(sorted(updated, key=lambda f: f.pk), many=True).data
        )


class CreateSegmentOverrideView(EnvironmentFromURL, APIView):
    """``environments/{api_key}/features/{feature_id}/create-segment-override/``: a segment
    override (slot and state) in one call."""

    permission_classes = [IsAuthenticated, HasEnvironmentPermission]
    environment_permissions = {"post": EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES}

    @extend_schema(request=SegmentOverrideCreateSerializer, responses={201: FeatureStateSerializer})
    def post(self, request: Request, environment_api_key: str, feature_pk: str) -> Response:
        environment = self.get_environment()
        feature = Feature.objects.filter(project_id=environment.project_id, pk=feature_pk).first()
        if feature is None:
            raise Http404
        serializer = SegmentOverrideCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        segment = Segment.objects.filter(
            project_id=environment.project_id, pk=data["segment"]
        ).first()
        if segment is None:
            raise _invalid_pk("segment", data["segment"])
        state = services.segment_override_create(
            feature=feature,
            segment=segment,
            environment=environment,
            actor=actor_of(request),
            enabled=data["enabled"],
            value=data["feature_state_value"],
            priority=data.get("priority"),
            allocations=_allocations(
                feature.pk, data.get("multivariate_feature_state_values") or []
            ),
        )
        return state_response(state, status.HTTP_201_CREATED)
