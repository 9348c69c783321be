from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "vexil.segments"
    label = "segments"
