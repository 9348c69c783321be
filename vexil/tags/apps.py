from django.apps import AppConfig


class TagsConfig(AppConfig):
    name = "vexil.tags"
    label = "tags"
