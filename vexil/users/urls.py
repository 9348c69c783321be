from django.urls import path

from vexil.users import apis

urlpatterns = [
    path("auth/users/", apis.RegisterView.as_view(), name="auth-register"),
    path("auth/users/confirm/", apis.SignUpConfirmView.as_view(), name="auth-sign-up-confirm"),
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
    path("auth/login/code/", apis.LoginWithCodeView.as_view(), name="auth-login-code"),
    path("auth/app/activate/", apis.TwoFactorActivateView.as_view(), name="auth-mfa-activate"),
    path(
        "auth/app/activate/confirm/",
        apis.TwoFactorConfirmView.as_view(),
        name="auth-mfa-activate-confirm",
    ),
    path(
        "auth/app/deactivate/", apis.TwoFactorDeactivateView.as_view(), name="auth-mfa-deactivate"
    ),
    path(
        "auth/app/backup-codes/regenerate/",
        apis.BackupCodesRegenerateView.as_view(),
        name="auth-mfa-backup-codes",
    ),
    path(
        "auth/mfa/user-active-methods/",
        apis.ActiveMethodsView.as_view(),
        name="auth-mfa-active-methods",
    ),
    path("auth/logout/", apis.LogoutView.as_view(), name="auth-logout"),
    path(
        "organisations/<int:organisation_id>/emails/",
        apis.OrganisationEmailsView.as_view(),
        name="organisation-emails",
    ),
]
