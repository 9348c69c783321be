"""The identities of an environment: search, create, delete; an identity's traits, its flags
exactly as an SDK gets them (with the reason for each), and its own overrides.

Views read the request, call a selector or a service, and render. Reading needs
VIEW_IDENTITIES, every change MANAGE_IDENTITIES (the management API's keys); a refused change
changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect

from vexil.dashboard.forms.identities import (
    IdentityForm,
    IdentityOverrideForm,
    IdentitySearchForm,
    TraitForm,
    trait_text,
    trait_type_name,
)
from vexil.dashboard.page import page, submit
from vexil.dashboard.rendering import render_page
from vexil.dashboard.scope import Scope
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
VIEW = [EnvironmentPermission.VIEW_IDENTITIES]
MANAGE = [EnvironmentPermission.MANAGE_IDENTITIES]


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


@page(read=VIEW)
def identity_list(request: HttpRequest, scope: Scope) -> HttpResponse:
    return _list_page(request, scope, IdentityForm())


def _list_page(
    request: HttpRequest, scope: Scope, form: IdentityForm, *, status: int = 200
) -> HttpResponse:
    search = IdentitySearchForm(request.GET)
    query = search.query()
    identities = selectors.identities_search(scope.current_environment, query)
    results = Paginator(identities, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "search": search,
        "query": query,
        "page": results,
        "form": form,
        "may_manage": scope.may(EnvironmentPermission.MANAGE_IDENTITIES),
    }
    return render_page(request, "dashboard/identities/list.html", scope, context, status=status)


@page(methods=["POST"], read=VIEW, write=MANAGE)
def identity_new(request: HttpRequest, scope: Scope) -> HttpResponse:
    form = IdentityForm(request.POST)

    def save(data: dict[str, Any]) -> HttpResponse:
        identity = services.identity_create(
            environment=scope.current_environment,
            identifier=data["identifier"],
            actor=scope.actor,
        )
        return _to_identity(scope, identity)

    return submit(form, save, default="identifier") or _list_page(request, scope, form, status=400)


# --- One identity ---------------------------------------------------------------------------------


@page(read=VIEW)
def identity_detail(request: HttpRequest, scope: Scope, identity_id: int) -> HttpResponse:
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


@page(methods=["GET", "POST"], read=VIEW + MANAGE)
def identity_delete(request: HttpRequest, scope: Scope, identity_id: int) -> HttpResponse:
    identity = _identity(scope, identity_id)
    if request.method == "POST":
        services.identity_delete(identity=identity, actor=scope.actor)
        return redirect(
            "dashboard:identities", scope.current_project.pk, scope.current_environment.api_key
        )
    return render_page(request, "dashboard/identities/delete.html", scope, {"identity": identity})


# --- Traits ---------------------------------------------------------------------------------------


@page(methods=["POST"], read=VIEW, write=MANAGE)
def trait_add(request: HttpRequest, scope: Scope, identity_id: int) -> HttpResponse:
    identity = _identity(scope, identity_id)
    form = TraitForm(request.POST, prefix="new-trait")

    def save(data: dict[str, Any]) -> HttpResponse:
        services.trait_create(
            identity=identity,
            trait_key=data["key"],
            value=data["typed_value"],
            actor=scope.actor,
        )
        return _to_identity(scope, identity)

    return submit(form, save, default="key") or _detail_page(
        request, scope, identity, trait_form=form, status=400
    )


@page(methods=["POST"], read=VIEW, write=MANAGE)
def trait_edit(request: HttpRequest, scope: Scope, identity_id: int, trait_id: int) -> HttpResponse:
    identity = _identity(scope, identity_id)
    trait = selectors.identity_traits(identity).filter(pk=trait_id).first()
    if trait is None:
        raise Http404
    form = TraitForm(request.POST, with_key=False, prefix=f"trait-{trait.pk}")

    def save(data: dict[str, Any]) -> HttpResponse:
        services.trait_update(trait=trait, value=data["typed_value"], actor=scope.actor)
        return _to_identity(scope, identity)

    return submit(form, save, default="value") or _detail_page(
        request, scope, identity, failed_trait=(trait.pk, form), status=400
    )


@page(methods=["POST"], read=VIEW, write=MANAGE)
def trait_delete(
    request: HttpRequest, scope: Scope, identity_id: int, trait_id: int
) -> HttpResponse:
    identity = _identity(scope, identity_id)
    traits = list(selectors.identity_traits(identity).filter(pk=trait_id))
    if not traits:
        raise Http404
    services.traits_delete(traits=traits, actor=scope.actor)
    return _to_identity(scope, identity)


# --- Identity overrides ---------------------------------------------------------------------------


@page(methods=["POST"], read=VIEW, write=MANAGE)
def override_set(request: HttpRequest, scope: Scope, identity_id: int) -> HttpResponse:
    """Create the identity's override of a feature, or change the one it has."""
    identity = _identity(scope, identity_id)
    features = list(selectors.overridable_features(scope.current_project))
    form = IdentityOverrideForm(request.POST, prefix="override", features=features)

    def save(data: dict[str, Any]) -> HttpResponse:
        feature = form.selected_feature()
        enabled, value = data["enabled"], data["typed_value"]
        existing = selectors.identity_overrides(identity).filter(feature=feature).first()
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
        return _to_identity(scope, identity)

    return submit(form, save, default="feature") or _detail_page(
        request, scope, identity, override_form=form, status=400
    )


@page(methods=["POST"], read=VIEW, write=MANAGE)
def override_remove(
    request: HttpRequest, scope: Scope, identity_id: int, state_id: int
) -> HttpResponse:
    identity = _identity(scope, identity_id)
    state = selectors.identity_overrides(identity).filter(pk=state_id).first()
    if state is None:
        raise Http404
    override_state_delete(feature_state=state, actor=scope.actor)
    return _to_identity(scope, identity)
