from rest_framework.routers import SimpleRouter

from vexil.organisations import views

router = SimpleRouter()
router.register("organisations", views.OrganisationViewSet, basename="organisation")
router.register(
    r"organisations/(?P<organisation_pk>\d+)/users", views.MemberViewSet, basename="member"
)
router.register(
    r"organisations/(?P<organisation_pk>\d+)/groups", views.UserGroupViewSet, basename="group"
)

urlpatterns = router.urls
