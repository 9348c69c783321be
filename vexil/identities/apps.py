from django.apps import AppConfig


class IdentitiesConfig(AppConfig):
    name = "vexil.identities"
    label = "identities"
