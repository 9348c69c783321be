from django.apps import AppConfig


class InvitesConfig(AppConfig):
    name = "vexil.invites"
    label = "invites"
    verbose_name = "Invites"
