"""The features of an environment: list, switch on and off, create, edit, per-environment values.

Views read the request, call a selector or a service of ``vexil.features``, and render. Every
write checks the same permission keys as the management API before calling the service, and a
refused write changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect
from django.urls import reverse

from vexil.dashboard.feature_rows import feature_rows, row_html, rows_html
from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.features import (
    FeatureFilterForm,
    FeatureForm,
    SegmentOverrideForm,
    StateForm,
    ToggleForm,
    VariationForm,
    WeightsForm,
    value_text,
)
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
from vexil.features import selectors, services
from vexil.features.models import Feature, FeatureSegment, FeatureState
from vexil.permissions.keys import EnvironmentPermission, ProjectPermission

PAGE_SIZE = 50
UPDATE_STATE = EnvironmentPermission.UPDATE_FEATURE_STATE
MANAGE_OVERRIDES = EnvironmentPermission.MANAGE_SEGMENT_OVERRIDES
CREATE_FEATURE = ProjectPermission.CREATE_FEATURE


def _feature(scope: Scope, feature_id: int) -> Feature:
    feature = selectors.feature_of_project(project=scope.current_project, feature_id=feature_id)
    if feature is None:
        raise Http404
    return feature


def _environment_args(scope: Scope) -> tuple[int, str]:
    return scope.current_project.pk, scope.current_environment.api_key


def _to_feature(scope: Scope, feature: Feature) -> HttpResponse:
    return redirect("dashboard:feature", *_environment_args(scope), feature.pk)


# --- The list -------------------------------------------------------------------------------------


@page()
def feature_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    """The features list; with ``revision`` (the live refresh), 204 while nothing changed."""
    environment = scope.current_environment
    polling = request.headers.get("HX-Request") == "true" and "revision" in request.GET
    if polling and request.GET["revision"] == str(environment.revision):
        return HttpResponse(status=204)
    filters = FeatureFilterForm(
        request.GET,
        tags=list(selectors.project_tags(project=scope.current_project)),
        owners=list(selectors.project_owners(project=scope.current_project)),
    )
    features = selectors.environment_features(
        project=scope.current_project, environment=environment, query=filters.query()
    )
    results = Paginator(features, PAGE_SIZE).get_page(request.GET.get("page"))
    row_context = _row_context(scope)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("revision", None)
    rows = feature_rows(results, row_context["features_url"])
    context = {
        "rows": rows,
        "rows_html": rows_html(
            rows, csrf_token=get_token(request), may_update=row_context["may_update"]
        ),
        "filters": filters,
        "page": results,
        "query_string": query.urlencode(),
        "filtered": any(request.GET.get(name) for name in filters.fields),
        "sdk_url": request.build_absolute_uri("/api/v1/"),
    }
    if polling:
        return render_page(request, "dashboard/features/rows.html", scope, context)
    return render_page(request, "dashboard/features/list.html", scope, context)


@page(methods=["POST"], write=[UPDATE_STATE])
def feature_toggle(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    """Switch a feature on or off here (the checkbox's state is what the user wants). Refused
    with 409 and the current state if the state changed since the list was read."""
    feature = _feature(scope, feature_id)
    form = ToggleForm(request.POST)
    if not form.is_valid():
        return HttpResponse("Reload the page and switch again.", status=400)
    state = selectors.feature_environment_state(
        feature=feature, environment=scope.current_environment
    )
    htmx = request.headers.get("HX-Request") == "true"
    try:
        services.feature_state_update(
            feature_state=state,
            actor=scope.actor,
            enabled=form.cleaned_data["enabled"],
            seen_updated_at=form.cleaned_data["version"],
        )
    except services.StaleFeatureStateError as error:
        if not htmx:
            return _detail_page(request, scope, feature, stale=error.current)
        return _row(request, scope, feature, stale=True)
    if not htmx:
        return redirect("dashboard:features", *_environment_args(scope))
    return _row(request, scope, feature)


def _row(
    request: HttpRequest, scope: Scope, feature: Feature, *, stale: bool = False
) -> HttpResponse:
    """One row of the list as it is now (the htmx answer to a switch)."""
    row = selectors.environment_features(
        project=scope.current_project,
        environment=scope.current_environment,
        query=selectors.FeatureQuery(archived=None),
    ).get(pk=feature.pk)
    context = _row_context(scope)
    html = row_html(
        feature_rows([row], context["features_url"])[0],
        csrf_token=get_token(request),
        may_update=context["may_update"],
        stale=stale,
    )
    return HttpResponse(html, status=409 if stale else 200)


def _row_context(scope: Scope) -> dict[str, Any]:
    """What each row of the list needs, computed once per page rather than once per row."""
    features_url = reverse(
        "dashboard:features", args=[scope.current_project.pk, scope.current_environment.api_key]
    )
    return {"features_url": features_url, "may_update": scope.may_update_feature_state}


# --- Create and settings --------------------------------------------------------------------------


def _feature_form(scope: Scope, data: Any = None, **kwargs: Any) -> FeatureForm:
    project = scope.current_project
    return FeatureForm(
        data,
        tags=list(selectors.project_tags(project=project)),
        owners=list(selectors.project_owners(project=project)),
        **kwargs,
    )


@page(methods=["GET", "POST"], read=[CREATE_FEATURE])
def feature_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = _feature_form(scope, request.POST or None)

    def save(data: dict[str, Any]) -> HttpResponse:
        feature = services.feature_create(
            project=scope.current_project,
            name=data["name"],
            actor=scope.actor,
            initial_value=data["typed_value"],
            default_enabled=data["default_enabled"],
            description=data["description"],
            is_server_key_only=data["is_server_key_only"],
            tags=form.selected_tags(),
            owners=form.selected_owners(),
        )
        return _to_feature(scope, feature)

    if request.method == "POST" and (saved := submit(form, save, default="name")):
        return saved
    status = 400 if request.method == "POST" else 200
    context = {"form": form}
    return render_page(request, "dashboard/features/new.html", scope, context, status=status)


@page(methods=["GET", "POST"], write=[CREATE_FEATURE])
def feature_settings(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    """A feature's own settings (all environments): name, description, initial value, tags,
    owners, server-side only, archived; its variations; delete."""
    feature = _feature(scope, feature_id)
    form = _feature_form(scope, request.POST or None, initial=FeatureForm.initial_of(feature))

    def save(data: dict[str, Any]) -> HttpResponse:
        services.feature_update(
            feature=feature,
            actor=scope.actor,
            name=data["name"],
            description=data["description"],
            initial_value=data["typed_value"],
            default_enabled=data["default_enabled"],
            is_server_key_only=data["is_server_key_only"],
            is_archived=request.POST.get("is_archived") == "on",
            tags=form.selected_tags() if "tags" in form.fields else None,
            owners=form.selected_owners() if "owners" in form.fields else None,
        )
        return redirect(request.path)

    if request.method == "POST" and (saved := submit(form, save, default="name")):
        return saved
    return _settings_page(request, scope, feature, form=form)


def _settings_page(
    request: HttpRequest,
    scope: Scope,
    feature: Feature,
    *,
    form: FeatureForm | None = None,
    variation_form: VariationForm | None = None,
) -> HttpResponse:
    failed = bool((form and form.errors) or (variation_form and variation_form.errors))
    context = {
        "feature": feature,
        "form": form or _feature_form(scope, initial=FeatureForm.initial_of(feature)),
        "variation_form": variation_form or VariationForm(),
        "options": selectors.feature_options(feature=feature),
    }
    return render_page(
        request,
        "dashboard/features/settings.html",
        scope,
        context,
        status=400 if failed else 200,
    )


@page(methods=["POST"], write=[CREATE_FEATURE])
def variation_add(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    feature = _feature(scope, feature_id)
    form = VariationForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        spec = services.OptionSpec(
            value=data["typed_value"], default_percentage_allocation=data["weight"]
        )
        services.mv_option_create(feature=feature, spec=spec, actor=scope.actor)
        return redirect("dashboard:feature-settings", *_environment_args(scope), feature.pk)

    return submit(form, save, default="weight") or _settings_page(
        request, scope, feature, variation_form=form
    )


@page(methods=["POST"], write=[CREATE_FEATURE])
def variation_delete(
    request: HttpRequest, scope: Scope, feature_id: int, option_id: int
) -> HttpResponse:
    feature = _feature(scope, feature_id)
    option = next(
        (o for o in selectors.feature_options(feature=feature) if o.pk == option_id), None
    )
    if option is None:
        raise Http404
    services.mv_option_delete(option=option, actor=scope.actor)
    return redirect("dashboard:feature-settings", *_environment_args(scope), feature.pk)


@page(methods=["GET", "POST"], read=[ProjectPermission.DELETE_FEATURE])
def feature_delete(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    """GET asks for confirmation; POST deletes the feature in every environment."""
    feature = _feature(scope, feature_id)
    if request.method == "POST":
        services.feature_delete(feature=feature, actor=scope.actor)
        return redirect("dashboard:features", *_environment_args(scope))
    context = {"feature": feature}
    return render_page(request, "dashboard/features/delete.html", scope, context)


# --- One feature in this environment --------------------------------------------------------------


def _detail_page(
    request: HttpRequest,
    scope: Scope,
    feature: Feature,
    *,
    state_form: StateForm | None = None,
    weights_form: WeightsForm | None = None,
    override_form: SegmentOverrideForm | None = None,
    stale: FeatureState | None = None,
) -> HttpResponse:
    environment = scope.current_environment
    state = selectors.feature_environment_state(feature=feature, environment=environment)
    options = selectors.feature_options(feature=feature)
    weights = {
        value.multivariate_feature_option_id: value.percentage_allocation
        for value in state.multivariate_feature_state_values.all()
    }
    initial_weights = {f"weight_{o.pk}": weights.get(o.pk, 0) for o in options}
    failed = any(form and form.errors for form in (state_form, weights_form, override_form))
    context = {
        "feature": feature,
        "state": state,
        "state_form": state_form or StateForm(initial=StateForm.initial_of(state)),
        "weights_form": weights_form or WeightsForm(initial=initial_weights, options=options),
        "options": options,
        "overrides": selectors.segment_overrides_of(feature=feature, environment=environment),
        "override_form": override_form
        or SegmentOverrideForm(
            segments=list(selectors.segments_for_overrides(feature=feature)), options=options
        ),
        "stale": stale,
        "stale_value": value_text(stale.value) if stale else "",
    }
    status = 409 if stale else (400 if failed else 200)
    return render_page(request, "dashboard/features/detail.html", scope, context, status=status)


@page()
def feature_detail(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    return _detail_page(request, scope, _feature(scope, feature_id))


@page(methods=["POST"], write=[UPDATE_STATE])
def feature_state_save(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    """Save on/off and the typed value; refused if someone saved the state since it was read."""
    feature = _feature(scope, feature_id)
    form = StateForm(request.POST)
    if not form.is_valid():
        return _detail_page(request, scope, feature, state_form=form)
    state = selectors.feature_environment_state(
        feature=feature, environment=scope.current_environment
    )
    try:
        services.feature_state_update(
            feature_state=state,
            actor=scope.actor,
            enabled=form.cleaned_data["enabled"],
            value=form.cleaned_data["typed_value"],
            seen_updated_at=form.cleaned_data["version"],
        )
    except services.StaleFeatureStateError as error:
        return _detail_page(request, scope, feature, state_form=form, stale=error.current)
    except ValidationError as error:
        add_service_errors(form, error, default="value")
        return _detail_page(request, scope, feature, state_form=form)
    return _to_feature(scope, feature)


@page(methods=["POST"], write=[UPDATE_STATE])
def feature_weights_save(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    feature = _feature(scope, feature_id)
    form = WeightsForm(request.POST, options=selectors.feature_options(feature=feature))

    def save(data: dict[str, Any]) -> HttpResponse:
        state = selectors.feature_environment_state(
            feature=feature, environment=scope.current_environment
        )
        allocations = [services.Allocation(option, weight) for option, weight in form.weights()]
        services.feature_state_update(
            feature_state=state, actor=scope.actor, allocations=allocations
        )
        return _to_feature(scope, feature)

    return submit(form, save) or _detail_page(request, scope, feature, weights_form=form)


# --- Segment overrides ----------------------------------------------------------------------------


@page(methods=["POST"], write=[MANAGE_OVERRIDES])
def segment_override_add(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    feature = _feature(scope, feature_id)
    segments = list(selectors.segments_for_overrides(feature=feature))
    options = selectors.feature_options(feature=feature)
    form = SegmentOverrideForm(request.POST, segments=segments, options=options)

    def save(data: dict[str, Any]) -> HttpResponse:
        allocations = [services.Allocation(option, weight) for option, weight in form.weights()]
        services.segment_override_create(
            feature=feature,
            segment=form.selected_segment(),
            environment=scope.current_environment,
            actor=scope.actor,
            enabled=data["enabled"],
            value=data["typed_value"],
            allocations=allocations,
        )
        return _to_feature(scope, feature)

    return submit(form, save, default="segment") or _detail_page(
        request, scope, feature, override_form=form
    )


def _override(scope: Scope, feature: Feature, override_id: int) -> FeatureSegment:
    overrides = selectors.segment_overrides_of(
        feature=feature, environment=scope.current_environment
    )
    override = next((o for o in overrides if o.pk == override_id), None)
    if override is None:
        raise Http404
    return override


@page(methods=["POST"], write=[MANAGE_OVERRIDES])
def segment_override_move(
    request: HttpRequest, scope: Scope, feature_id: int, override_id: int
) -> HttpResponse:
    """Move an override one step stronger (``direction=up``) or weaker (``down``)."""
    feature = _feature(scope, feature_id)
    override = _override(scope, feature, override_id)
    step = -1 if request.POST.get("direction") == "up" else 1
    services.feature_segment_priorities_update(
        priorities=[(override, max(0, override.priority + step))], actor=scope.actor
    )
    return _to_feature(scope, feature)


@page(methods=["POST"], write=[MANAGE_OVERRIDES])
def segment_override_remove(
    request: HttpRequest, scope: Scope, feature_id: int, override_id: int
) -> HttpResponse:
    feature = _feature(scope, feature_id)
    override = _override(scope, feature, override_id)
    services.feature_segment_delete(feature_segment=override, actor=scope.actor)
    return _to_feature(scope, feature)


# --- One feature across environments --------------------------------------------------------------


@page()
def feature_environments(request: HttpRequest, scope: Scope, feature_id: int) -> HttpResponse:
    feature = _feature(scope, feature_id)
    states = selectors.feature_states_across(feature=feature, environments=scope.environments)
    by_id = {state.environment_id: state for state in states}
    rows = [(environment, by_id.get(environment.pk)) for environment in scope.environments]
    context = {"feature": feature, "rows": rows}
    return render_page(request, "dashboard/features/environments.html", scope, context)
