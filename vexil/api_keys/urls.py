from rest_framework.routers import SimpleRouter

from vexil.api_keys import views

router = SimpleRouter()
router.register(
    r"organisations/(?P<organisation_pk>\d+)/master-api-keys",
    views.MasterAPIKeyViewSet,
    basename="master-api-key",
)

urlpatterns = router.urls
