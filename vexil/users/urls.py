from django.urls import path

from vexil.users import apis

urlpatterns = [
    path("auth/users/", apis.RegisterView.as_view(), name="auth-register"),
    path("auth/users/me/", apis.MeView.as_view(), name="auth-me"),
    path("auth/users/set_password/", apis.SetPasswordView.as_view(), name="auth-set-password"),
    path(
        "auth/users/reset_password/",
        apis.PasswordResetView.as_view(),
        name="auth-reset-password",
    ),
    path(
        "auth/users/reset_password_confirm/",
        apis.PasswordResetConfirmView.as_view(),
        name="auth-reset-password-confirm",
    ),
    path("auth/login/", apis.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", apis.LogoutView.as_view(), name="auth-logout"),
]
