from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "vexil.users"
    label = "users"
    verbose_name = "Users"

    def ready(self) -> None:
        from vexil.users import schema  # noqa: F401  (registers the OpenAPI extension)
