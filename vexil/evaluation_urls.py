"""Management endpoints that show evaluation results (before the flags routers, whose detail
routes would otherwise take ``all`` and ``document`` for ids)."""

from django.urls import path

from vexil.environments.evaluation_views import (
    EnvironmentDocumentView,
    IdentityAllFeatureStatesView,
)

urlpatterns = [
    path(
        "environments/<str:environment_api_key>/document/",
        EnvironmentDocumentView.as_view(),
        name="environment-document-admin",
    ),
    path(
        "environments/<str:environment_api_key>/identities/<int:identity_pk>/featurestates/all/",
        IdentityAllFeatureStatesView.as_view(),
        name="identity-featurestates-all",
    ),
]
