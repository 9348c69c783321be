from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "vexil.analytics"
    label = "analytics"
