from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "vexil.audit"
    label = "audit"
