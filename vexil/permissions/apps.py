from django.apps import AppConfig


class PermissionsConfig(AppConfig):
    name = "vexil.permissions"
    label = "permissions"
