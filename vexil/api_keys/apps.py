from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "vexil.api_keys"
    label = "api_keys"
    verbose_name = "Organisation master API keys"

    def ready(self) -> None:
        from vexil.api_keys import schema  # noqa: F401  (registers the OpenAPI extension)
