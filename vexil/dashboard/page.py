"""The opening every dashboard view shares, written once.

``@page`` signs the user in, allows the view's methods, resolves its scope from the URL
(organisation, project or environment, through ``vexil.dashboard.scope``) and refuses with 403
what the scope does not allow, before the view runs; the view receives ``scope`` in place of
the URL's ``organisation_id`` / ``project_id`` / ``client_key``. ``submit`` is the other half:
a valid form goes to a service, and the service's ``ValidationError`` comes back onto the form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_http_methods

from vexil.dashboard.forms import add_service_errors
from vexil.dashboard.scope import (
    Scope,
    environment_scope,
    organisation_scope,
    project_scope,
    user_scope,
)

Rule = str | Callable[[Scope], bool]
"""A permission key the scope must hold, or a predicate on the scope (e.g. an admin check)."""

View = Callable[..., HttpResponse]


def allows(scope: Scope, rules: Iterable[Rule]) -> bool:
    return all(scope.may(rule) if isinstance(rule, str) else rule(scope) for rule in rules)


def require(scope: Scope, *rules: Rule) -> None:
    """403 unless ``scope`` allows every rule (for checks that depend on the request)."""
    if not allows(scope, rules):
        raise PermissionDenied


def _scope_of(request: HttpRequest, kwargs: dict[str, Any]) -> Scope:
    if "client_key" in kwargs:
        return environment_scope(request, kwargs.pop("project_id"), kwargs.pop("client_key"))
    if "project_id" in kwargs:
        return project_scope(request, kwargs.pop("project_id"))
    if "organisation_id" in kwargs:
        return organisation_scope(request, kwargs.pop("organisation_id"))
    return user_scope(request)


def page(
    *,
    methods: Iterable[str] = ("GET",),
    read: Iterable[Rule] = (),
    write: Iterable[Rule] = (),
) -> Callable[[View], View]:
    """A dashboard view: ``read`` rules hold for every method, ``write`` rules also for POST."""
    allowed, read_rules, write_rules = list(methods), tuple(read), tuple(write)

    def decorate(view: View) -> View:
        @login_required
        @require_http_methods(allowed)
        @wraps(view)
        def wrapper(request: HttpRequest, **kwargs: Any) -> HttpResponse:
            scope = _scope_of(request, kwargs)
            require(scope, *read_rules)
            if request.method == "POST":
                require(scope, *write_rules)
            return view(request, scope, **kwargs)

        return wrapper

    return decorate


def submit(
    form: forms.Form, save: Callable[[dict[str, Any]], HttpResponse], *, default: str | None = None
) -> HttpResponse | None:
    """``save``'s response (it calls the service with the cleaned data and answers) when the
    form is valid and the service accepts it; else ``None`` with the errors on the form (a
    service's by field when the form has it, else on ``default``) and the user's input kept."""
    if not form.is_valid():
        return None
    try:
        return save(form.cleaned_data)
    except ValidationError as error:
        add_service_errors(form, error, default=default)
        return None
