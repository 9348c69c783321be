"""Forms of the permission pages (grants on a project or an environment) and the groups page."""

from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import TextChoices

from vexil.dashboard.forms import DashboardForm
from vexil.organisations.models import UserGroup
from vexil.users.models import User


class GrantForm(DashboardForm):
    """What a grant allows: ``admin`` (everything here) and the permission keys of its object."""

    admin = forms.BooleanField(label="Administrator", required=False)
    permissions = forms.MultipleChoiceField(
        label="Permissions", required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, keys: type[TextChoices], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["permissions"].choices = keys.choices  # type: ignore[attr-defined]


class NewGrantForm(GrantForm):
    """A grant to a member or a group of the organisation that has none here yet."""

    grantee = forms.ChoiceField(label="User or group")
    field_order = ["grantee", "admin", "permissions"]

    def __init__(
        self, *args: Any, users: list[User], groups: list[UserGroup], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.users = {f"user:{user.pk}": user for user in users}
        self.groups = {f"group:{group.pk}": group for group in groups}
        self.fields["grantee"].choices = [  # type: ignore[attr-defined]
            ("", "Choose a user or a group"),
            ("Users", [(key, user.email) for key, user in self.users.items()]),
            ("Groups", [(key, group.name) for key, group in self.groups.items()]),
        ]

    def selected_grantee(self) -> dict[str, Any]:
        """``{"user": ...}`` or ``{"group": ...}``, as the grant services take it."""
        key = self.cleaned_data["grantee"]
        if key in self.users:
            return {"user": self.users[key]}
        return {"group": self.groups[key]}


class GroupForm(DashboardForm):
    name = forms.CharField(label="Group name", max_length=200)


class GroupMemberForm(DashboardForm):
    user = forms.TypedChoiceField(label="Member to add", coerce=int)

    def __init__(self, *args: Any, users: list[User], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].choices = [("", "Choose a member")] + [  # type: ignore[attr-defined]
            (user.pk, user.email) for user in users
        ]
