from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.identities import views

_IDENTITY = r"environments/(?P<environment_api_key>[^/]+)/identities"
router = SimpleRouter()
router.register(_IDENTITY, views.IdentityViewSet, basename="identity")
router.register(
    _IDENTITY + r"/(?P<identity_pk>\d+)/featurestates",
    views.IdentityOverrideViewSet,
    basename="identity-featurestate",
)
router.register(
    _IDENTITY + r"/(?P<identity_pk>\d+)/traits", views.TraitViewSet, basename="identity-trait"
)

urlpatterns = [
    path(
        "environments/<str:environment_api_key>/trait-keys/",
        views.TraitKeysView.as_view(),
        name="environment-trait-keys",
    ),
    path(
        "environments/<str:environment_api_key>/delete-traits/",
        views.DeleteTraitsView.as_view(),
        name="environment-delete-traits",
    ),
    *router.urls,
]
