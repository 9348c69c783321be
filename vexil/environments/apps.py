from django.apps import AppConfig


class EnvironmentsConfig(AppConfig):
    name = "vexil.environments"
    label = "environments"
