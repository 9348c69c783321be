from django.apps import AppConfig
from django.db.models.signals import m2m_changed, post_delete, post_save


class PermissionsConfig(AppConfig):
    name = "vexil.permissions"
    label = "permissions"

    def ready(self) -> None:
        # The only signals here: a change to who may do what forgets the request's memo of it.
        from vexil.organisations.models import OrganisationMembership, UserGroup
        from vexil.permissions.models import EnvironmentGrant, ProjectGrant
        from vexil.permissions.selectors import forget_remembered

        for model in (OrganisationMembership, ProjectGrant, EnvironmentGrant):
            name = model.__name__
            post_save.connect(forget_remembered, sender=model, dispatch_uid=f"memo-save-{name}")
            post_delete.connect(forget_remembered, sender=model, dispatch_uid=f"memo-del-{name}")
        m2m_changed.connect(
            forget_remembered, sender=UserGroup.users.through, dispatch_uid="memo-group-users"
        )
