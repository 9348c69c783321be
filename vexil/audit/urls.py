from rest_framework.routers import SimpleRouter

from vexil.audit import views

router = SimpleRouter()
router.register("audit", views.AuditLogViewSet, basename="audit")
router.register(
    r"projects/(?P<project_pk>\d+)/audit", views.ProjectAuditLogViewSet, basename="project-audit"
)
router.register(
    r"organisations/(?P<organisation_pk>\d+)/audit",
    views.OrganisationAuditLogViewSet,
    basename="organisation-audit",
)

urlpatterns = router.urls
