"""The identities of an environment: search, create, delete; an identity's traits, its flags
exactly as an SDK gets them (with the reason for each), and its own overrides.

Views read the request, call a selector or a service, and render. Reading needs
VIEW_IDENTITIES, every change MANAGE_IDENTITIES (the management API's keys); a refused change
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.forms.identities import (
    IdentityForm,
    IdentityOverrideForm,
    IdentitySearchForm,
    TraitForm,
    trait_text,
    trait_type_name,
)
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope, environment_scope
from vexil.evaluation.explain import identity_flags_explained
from vexil.features.services import (
    feature_state_update,
    identity_override_create,
    override_state_delete,
)
from vexil.identities import selectors, services
from vexil.identities.models import Identity
from vexil.permissions.keys import EnvironmentPermission

PAGE_SIZE = 50


def _scope(request: HttpRequest, project_id: int, client_key: str) -> Scope:
    scope = environment_scope(request, project_id, client_key)
    if not scope.may(EnvironmentPermission.VIEW_IDENTITIES):
        raise PermissionDenied
    return scope


def _require_manage(scope: Scope) -> None:
    if not scope.may(EnvironmentPermission.MANAGE_IDENTITIES):
        raise PermissionDenied


def _identity(scope: Scope, identity_id: int) -> Identity:
    identity = selectors.identity_of_environment(scope.current_environment, identity_id)
    if identity is None:
        raise Http404
    return identity


def _to_identity(scope: Scope, identity: Identity) -> HttpResponse:
    return redirect(
        "dashboard:identity",
        scope.current_project.pk,
        scope.current_environment.api_key,
        identity.pk,
    )


# --- The list -------------------------------------------------------------------------------------


@login_required
@require_GET
def identity_list(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    return _list_page(request, scope, IdentityForm())


def _list_page(
    request: HttpRequest, scope: Scope, form: IdentityForm, *, status: int = 200
) -> HttpResponse:
    search = IdentitySearchForm(request.GET)
    query = search.query()
    identities = selectors.identities_search(scope.current_environment, query)
    page = Paginator(identities, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "search": search,
        "query": query,
        "page": page,
        "form": form,
        "may_manage": scope.may(EnvironmentPermission.MANAGE_IDENTITIES),
    }
    return render_page(request, "dashboard/identities/list.html", scope, context, status=status)


@login_required
@require_POST
def identity_new(request: HttpRequest, project_id: int, client_key: str) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    form = IdentityForm(request.POST)
    if form.is_valid():
        try:
            identity = services.identity_create(
                environment=scope.current_environment,
                identifier=form.cleaned_data["identifier"],
                actor=scope.actor,
            )
        except ValidationError as error:
            add_service_errors(form, error, default="identifier")
        else:
            return _to_identity(scope, identity)
    return _list_page(request, scope, form, status=400)


# --- One identity ---------------------------------------------------------------------------------


@login_required
@require_GET
def identity_detail(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    return _detail_page(request, scope, _identity(scope, identity_id))


def _detail_page(
    request: HttpRequest,
    scope: Scope,
    identity: Identity,
    *,
    trait_form: TraitForm | None = None,
    override_form: IdentityOverrideForm | None = None,
    failed_trait: tuple[int, TraitForm] | None = None,
    status: int = 200,
) -> HttpResponse:
    may_manage = scope.may(EnvironmentPermission.MANAGE_IDENTITIES)
    features = list(selectors.overridable_features(scope.current_project))
    traits = [
        {
            "trait": trait,
            "form": (
                failed_trait[1]
                if failed_trait and failed_trait[0] == trait.pk
                else TraitForm(
                    with_key=False,
                    prefix=f"trait-{trait.pk}",
                    initial={
                        "value": trait_text(trait.trait_value),
                        "value_type": trait_type_name(trait.trait_value),
                    },
                )
            ),
        }
        for trait in selectors.identity_traits(identity)
    ]
    context: dict[str, Any] = {
        "identity": identity,
        "traits": traits,
        "overrides": list(selectors.identity_overrides(identity)),
        "preview": identity_flags_explained(identity.environment_id, identity.identifier),
        "may_manage": may_manage,
        "trait_form": trait_form or TraitForm(prefix="new-trait"),
        "override_form": override_form
        or IdentityOverrideForm(prefix="override", features=features),
    }
    return render_page(request, "dashboard/identities/detail.html", scope, context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def identity_delete(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    if request.method == "POST":
        services.identity_delete(identity=identity, actor=scope.actor)
        return redirect("dashboard:identities", project_id, client_key)
    return render_page(request, "dashboard/identities/delete.html", scope, {"identity": identity})


# --- Traits ---------------------------------------------------------------------------------------


@login_required
@require_POST
def trait_add(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    form = TraitForm(request.POST, prefix="new-trait")
    if form.is_valid():
        try:
            services.trait_create(
                identity=identity,
                trait_key=form.cleaned_data["key"],
                value=form.cleaned_data["typed_value"],
                actor=scope.actor,
            )
        except ValidationError as error:
            add_service_errors(form, error, default="key")
        else:
            return _to_identity(scope, identity)
    return _detail_page(request, scope, identity, trait_form=form, status=400)


@login_required
@require_POST
def trait_edit(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int, trait_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    trait = selectors.identity_traits(identity).filter(pk=trait_id).first()
    if trait is None:
        raise Http404
    form = TraitForm(request.POST, with_key=False, prefix=f"trait-{trait.pk}")
    if form.is_valid():
        try:
            services.trait_update(
                trait=trait, value=form.cleaned_data["typed_value"], actor=scope.actor
            )
        except ValidationError as error:
            add_service_errors(form, error, default="value")
        else:
            return _to_identity(scope, identity)
    return _detail_page(request, scope, identity, failed_trait=(trait.pk, form), status=400)


@login_required
@require_POST
def trait_delete(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int, trait_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    traits = list(selectors.identity_traits(identity).filter(pk=trait_id))
    if not traits:
        raise Http404
    services.traits_delete(traits=traits, actor=scope.actor)
    return _to_identity(scope, identity)


# --- Identity overrides ---------------------------------------------------------------------------


@login_required
@require_POST
def override_set(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int
) -> HttpResponse:
    """Create the identity's override of a feature, or change the one it has."""
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    features = list(selectors.overridable_features(scope.current_project))
    form = IdentityOverrideForm(request.POST, prefix="override", features=features)
    if form.is_valid():
        feature = form.selected_feature()
        enabled, value = form.cleaned_data["enabled"], form.cleaned_data["typed_value"]
        existing = selectors.identity_overrides(identity).filter(feature=feature).first()
        try:
            if existing is None:
                identity_override_create(
                    feature=feature,
                    identity_id=identity.pk,
                    environment=scope.current_environment,
                    actor=scope.actor,
                    enabled=enabled,
                    value=value,
                )
            else:
                feature_state_update(
                    feature_state=existing, actor=scope.actor, enabled=enabled, value=value
                )
        except ValidationError as error:
            add_service_errors(form, error, default="feature")
        else:
            return _to_identity(scope, identity)
    return _detail_page(request, scope, identity, override_form=form, status=400)


@login_required
@require_POST
def override_remove(
    request: HttpRequest, project_id: int, client_key: str, identity_id: int, state_id: int
) -> HttpResponse:
    scope = _scope(request, project_id, client_key)
    _require_manage(scope)
    identity = _identity(scope, identity_id)
    state = selectors.identity_overrides(identity).filter(pk=state_id).first()
    if state is None:
        raise Http404
    override_state_delete(feature_state=state, actor=scope.actor)
    return _to_identity(scope, identity)
