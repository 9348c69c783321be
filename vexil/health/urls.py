from django.urls import path

from vexil.health import views

urlpatterns = [
    path("health/liveness/", views.liveness, name="health-liveness"),
    path("health/readiness/", views.readiness, name="health-readiness"),
    path("health/", views.liveness),
    path("version/", views.version, name="version"),
]
