from django.urls import path
from rest_framework.routers import SimpleRouter

from vexil.invites import views

router = SimpleRouter()
router.register(
    r"organisations/(?P<organisation_pk>\d+)/invites", views.InviteViewSet, basename="invite"
)
router.register(
    r"organisations/(?P<organisation_pk>\d+)/invite-links",
    views.InviteLinkViewSet,
    basename="invite-link",
)

urlpatterns = [
    path(
        "organisations/<int:organisation_pk>/invite/",
        views.MultiInviteView.as_view(),
        name="organisation-invite",
    ),
    path("users/join/link/<str:invite_hash>/", views.JoinByLinkView.as_view(), name="join-link"),
    path("users/join/<str:invite_hash>/", views.JoinByInviteView.as_view(), name="join-invite"),
    *router.urls,
]
