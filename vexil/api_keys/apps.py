from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "vexil.api_keys"
    label = "api_keys"
    verbose_name = "Organisation master API keys"
