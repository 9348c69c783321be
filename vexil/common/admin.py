"""Django admin pages that write through the domain services, or not at all.

An admin change must have the effects of the same change made over the API: its audit row (the
admin user as author), the environment revisions it moves (so the SDKs see it within a second),
its validation. :class:`ServiceAdmin` therefore never saves the form's instance: once the form and
the model's own checks pass, it calls the model's service (in a savepoint, so a refusal becomes a
form error and nothing of it stays) and shows what the service saved. Models without a service
for an operation are registered with :class:`ReadOnlyAdmin` or without that permission.
"""

from __future__ import annotations

from typing import Any, ClassVar

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.http import HttpRequest

from vexil.audit.services import Actor
from vexil.common.models import OutboundEmail


class ReadOnlyAdmin(admin.ModelAdmin):
    """Shown, never changed here: no service behind an admin form for it."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ServiceAdmin(admin.ModelAdmin):
    """Subclasses name the fields the change form edits and implement the operations they allow:
    ``service_create`` (add), ``service_update`` (change), ``service_delete`` (delete). Every
    other field is read-only."""

    editable_fields: ClassVar[tuple[str, ...]] = ()
    # Fields the add form asks for (defaults to the editable ones).
    create_fields: ClassVar[tuple[str, ...] | None] = None

    def service_create(self, *, data: dict[str, Any], actor: Actor) -> models.Model:
        raise NotImplementedError

    def service_update(self, *, obj: Any, changes: dict[str, Any], actor: Actor) -> models.Model:
        raise NotImplementedError

    def service_delete(self, *, obj: Any, actor: Actor) -> None:
        raise NotImplementedError

    def _implements(self, name: str) -> bool:
        return getattr(type(self), name) is not getattr(ServiceAdmin, name)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._implements("service_create") and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Without an update service the change page still shows the object, read-only.
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._implements("service_delete") and super().has_delete_permission(request, obj)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return list(
                self.create_fields if self.create_fields is not None else self.editable_fields
            )
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return ()
        editable = self.editable_fields if self._implements("service_update") else ()
        names = [f.name for f in self.model._meta.fields if f.name not in editable]
        return [*names, *getattr(self, "display_fields", ())]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (_ServiceForm, form), {"admin": self, "request": request})

    def save_form(self, request: HttpRequest, form: Any, change: bool) -> Any:
        return form.saved  # what the service saved; the form's own instance is never saved

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        pass  # done by the service, in the form's validation (see _ServiceForm)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        pass  # many-to-many fields too are the service's

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        self.service_delete(obj=obj, actor=Actor(user=request.user))  # type: ignore[arg-type]

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        # The service deletes what depends on the object, as over the API; that a dependent row
        # (a feature's states, say) cannot be deleted on its own page does not forbid it here.
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in queryset:
            self.delete_model(request, obj)


class _ServiceForm(forms.ModelForm):
    admin: ServiceAdmin
    request: HttpRequest
    saved: models.Model | None = None

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        if self._errors:  # type: ignore[attr-defined]
            return
        actor = Actor(user=self.request.user)  # type: ignore[arg-type]
        try:
            with transaction.atomic():
                self.saved = self._call_service(actor)
        except ValidationError as error:
            self._update_errors(error)  # type: ignore[attr-defined]

    def _call_service(self, actor: Actor) -> models.Model:
        if self.instance._state.adding:
            return self.admin.service_create(data=dict(self.cleaned_data), actor=actor)
        current = type(self.instance)._default_manager.get(pk=self.instance.pk)
        changes = {name: self.cleaned_data[name] for name in self.changed_data}
        if not changes:
            return current
        return self.admin.service_update(obj=current, changes=changes, actor=actor)


# --- The common app's own models ---------------------------------------------------------------
@admin.register(OutboundEmail)
class OutboundEmailAdmin(admin.ModelAdmin):
    list_display = ("created_at", "kind", "recipient", "status", "attempts", "sent_at")
    list_filter = ("status", "kind")
    search_fields = ("recipient", "subject")
    readonly_fields = tuple(field.name for field in OutboundEmail._meta.fields)
