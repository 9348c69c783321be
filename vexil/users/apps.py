from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "vexil.users"
    label = "users"
    verbose_name = "Users"
