from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.permissions import views

router = SimpleRouter()
router.register(
    r"projects/(?P<project_pk>\d+)/user-permissions",
    views.ProjectUserGrantViewSet,
    basename="project-user-permission",
)
router.register(
    r"projects/(?P<project_pk>\d+)/user-group-permissions",
    views.ProjectGroupGrantViewSet,
    basename="project-group-permission",
)
router.register(
    r"environments/(?P<environment_api_key>[^/.]+)/user-permissions",
    views.EnvironmentUserGrantViewSet,
    basename="environment-user-permission",
)
router.register(
    r"environments/(?P<environment_api_key>[^/.]+)/user-group-permissions",
    views.EnvironmentGroupGrantViewSet,
    basename="environment-group-permission",
)

urlpatterns = [
    # Before the routes with an api_key, which would read "permissions" as one.
    path(
        "environments/permissions/",
        views.EnvironmentPermissionKeysView.as_view(),
        name="environment-permission-keys",
    ),
    path(
        "environments/<str:environment_api_key>/my-permissions/",
        views.EnvironmentMyPermissionsView.as_view(),
        name="environment-my-permissions",
    ),
    *router.urls,
]
