"""The tenancy and access half of the management API: auth, organisations, projects, grants,
audit. Included once from ``vexil.urls`` under ``/api/v1/``."""

from django.urls import include, path

urlpatterns = [
    path("", include("vexil.users.urls")),
    path("", include("vexil.organisations.urls")),
    path("", include("vexil.api_keys.urls")),
    path("", include("vexil.projects.urls")),
    path("", include("vexil.permissions.urls")),
    path("", include("vexil.audit.urls")),
    path("", include("vexil.webhooks.urls")),
    path("", include("vexil.invites.urls")),
]
