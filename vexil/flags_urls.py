"""The flags half of the management API: environments, features, segments, identities, tags."""

from django.urls import include, path

urlpatterns = [
    path("", include("vexil.environments.urls")),
    path("", include("vexil.features.urls")),
    path("", include("vexil.segments.urls")),
    path("", include("vexil.identities.urls")),
    path("", include("vexil.tags.urls")),
    path("", include("vexil.portability.urls")),
]
