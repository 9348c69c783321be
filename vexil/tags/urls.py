from rest_framework.routers import SimpleRouter

from vexil.tags import views

router = SimpleRouter()
router.register(r"projects/(?P<project_pk>\d+)/tags", views.TagViewSet, basename="tag")

urlpatterns = router.urls
