from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.webhooks import views

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

urlpatterns = [
    path("webhooks/test/", views.WebhookTestView.as_view(), name="webhook-test"),
    *router.urls,
]
