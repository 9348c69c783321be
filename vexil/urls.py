from csp.decorators import csp_exempt
from django.contrib import admin
from django.urls import URLPattern, URLResolver, include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from vexil.common import views as common_views
from vexil.users import views as user_views

api_v1: list[URLPattern | URLResolver] = [
    path("", common_views.api_index, name="api-index"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI starts itself with an inline script; the dashboard's CSP would block it.
    path(
        "docs/",
        csp_exempt()(SpectacularSwaggerView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("users/config/init/", user_views.initialise, name="instance-initialise"),
    # Tenancy first: its fixed paths (environments/permissions/) must win over flags' lookups.
    path("", include("vexil.tenancy_urls")),
    path("", include("vexil.analytics.urls")),
    path("", include("vexil.evaluation_urls")),
    path("", include("vexil.flags_urls")),
]

# Sessions begin only at the dashboard's sign-in (two-factor step, PREVENT_EMAIL_PASSWORD).
admin.site.login = user_views.sign_in_elsewhere  # type: ignore[method-assign]

urlpatterns = [
    path("", include("vexil.health.urls")),
    path("api/v1/", include(api_v1)),
    path("admin/", admin.site.urls),
    # Session login for the browsable API and for browsers sent here by an HTML 401 page.
    path("api-auth/login/", user_views.sign_in_elsewhere),
    path("api-auth/", include("rest_framework.urls")),
    # The dashboard last: its pages sit at the root of the site.
    path("", include("vexil.dashboard.urls")),
]

handler400 = "vexil.common.errors.bad_request"
handler403 = "vexil.common.errors.permission_denied"
handler404 = "vexil.common.errors.page_not_found"
handler500 = "vexil.common.errors.server_error"
