from rest_framework.routers import SimpleRouter

from vexil.segments import views

router = SimpleRouter()
router.register(r"projects/(?P<project_pk>\d+)/segments", views.SegmentViewSet, basename="segment")

urlpatterns = router.urls
