from rest_framework.routers import SimpleRouter

from vexil.projects import views

router = SimpleRouter()
router.register("projects", views.ProjectViewSet, basename="project")

urlpatterns = router.urls
