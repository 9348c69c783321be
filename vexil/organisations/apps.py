from django.apps import AppConfig


class OrganisationsConfig(AppConfig):
    name = "vexil.organisations"
    label = "organisations"
