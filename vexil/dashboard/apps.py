from django.apps import AppConfig


class DashboardConfig(AppConfig):
    name = "vexil.dashboard"
    label = "dashboard"
    verbose_name = "Dashboard"
