from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.webhooks import integration_views, views

router = SimpleRouter()
router.register(
    r"environments/(?P<environment_api_key>[^/]+)/webhooks",
    views.EnvironmentWebhookViewSet,
    basename="environment-webhook",
)
router.register(
    r"organisations/(?P<organisation_pk>\d+)/webhooks",
    views.OrganisationWebhookViewSet,
    basename="organisation-webhook",
)
router.register(
    r"projects/(?P<project_pk>\d+)/integrations/datadog",
    integration_views.DatadogViewSet,
    basename="integration-datadog",
)
router.register(
    r"projects/(?P<project_pk>\d+)/integrations/grafana",
    integration_views.GrafanaViewSet,
    basename="integration-grafana",
)
router.register(
    r"organisations/(?P<organisation_pk>\d+)/integrations/grafana",
    integration_views.OrganisationGrafanaViewSet,
    basename="integration-grafana-organisation",
)
router.register(
    r"environments/(?P<environment_api_key>[^/]+)/integrations/slack",
    integration_views.SlackViewSet,
    basename="integration-slack",
)
router.register(
    r"environments/(?P<environment_api_key>[^/]+)/integrations/json-webhook",
    integration_views.JSONWebhookViewSet,
    basename="integration-json-webhook",
)

urlpatterns = [
    path("webhooks/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    *router.urls,
]
