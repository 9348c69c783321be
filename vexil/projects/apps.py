from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "vexil.projects"
    label = "projects"
