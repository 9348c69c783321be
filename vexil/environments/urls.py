from rest_framework.routers import SimpleRouter

from vexil.environments import views

router = SimpleRouter()
router.register("environments", views.EnvironmentViewSet, basename="environment")
router.register(
    r"environments/(?P<environment_api_key>[^/]+)/api-keys",
    views.EnvironmentAPIKeyViewSet,
    basename="environment-api-key",
)

urlpatterns = router.urls
