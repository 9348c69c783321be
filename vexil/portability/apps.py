from django.apps import AppConfig


class PortabilityConfig(AppConfig):
    name = "vexil.portability"
    label = "portability"
