from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.features import export_views, views

router = SimpleRouter()
router.register(r"projects/(?P<project_pk>\d+)/features", views.FeatureViewSet, basename="feature")
router.register(
    r"projects/(?P<project_pk>\d+)/features/(?P<feature_pk>\d+)/mv-options",
    views.MultivariateOptionViewSet,
    basename="feature-mv-option",
)
router.register(
    r"environments/(?P<environment_api_key>[^/]+)/featurestates",
    views.EnvironmentFeatureStateViewSet,
    basename="environment-featurestate",
)
router.register("features/featurestates", views.FeatureStateViewSet, basename="featurestate")
router.register(
    "features/feature-segments", views.FeatureSegmentViewSet, basename="feature-segment"
)

urlpatterns = [
    path(
        "environments/<str:environment_api_key>/feature-export/",
        export_views.EnvironmentFeatureExportView.as_view(),
        name="environment-feature-export",
    ),
    path(
        "environments/<str:environment_api_key>/features/<int:feature_pk>/create-segment-override/",
        views.CreateSegmentOverrideView.as_view(),
        name="create-segment-override",
    ),
    *router.urls,
]
