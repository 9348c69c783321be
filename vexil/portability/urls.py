from django.urls import path

from vexil.portability import views

urlpatterns = [
    path(
        "features/create-feature-export/",
        views.FeatureExportCreateView.as_view(),
        name="feature-export-create",
    ),
    path(
        "features/download-feature-export/<int:export_id>/",
        views.FeatureExportDownloadView.as_view(),
        name="feature-export-download",
    ),
    path(
        "projects/<int:project_pk>/feature-exports/",
        views.ProjectFeatureExportListView.as_view(),
        name="project-feature-exports",
    ),
    # No trailing slash: Flagsmith's path, as its frontend calls it.
    path(
        "features/feature-import/<int:environment_id>",
        views.FeatureImportCreateView.as_view(),
        name="feature-import-create",
    ),
    path(
        "projects/<int:project_pk>/feature-imports/",
        views.ProjectFeatureImportListView.as_view(),
        name="project-feature-imports",
    ),
]
