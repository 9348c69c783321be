from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "vexil.webhooks"
    label = "webhooks"
