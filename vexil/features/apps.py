from django.apps import AppConfig


class FeaturesConfig(AppConfig):
    name = "vexil.features"
    label = "features"
