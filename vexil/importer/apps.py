from django.apps import AppConfig


class ImporterConfig(AppConfig):
    name = "vexil.importer"
    label = "importer"
