"""The dashboard's pages, at the root of the site. Each area adds its paths to its own list."""

from __future__ import annotations

from django.urls import URLPattern, URLResolver, include, path, re_path

from vexil.dashboard import (
    audit,
    auth,
    compare,
    evaluate,
    features,
    grants,
    groups,
    identities,
    invites,
    navigation,
    organisation_settings,
    password_reset,
    project_settings,
    segments,
    settings,
    sso,
    two_factor,
    webhooks,
)

app_name = "dashboard"

# One feature, seen from an environment: .../features/<feature_id>/...
feature_patterns: list[URLPattern | URLResolver] = [
    path("", features.feature_detail, name="feature"),
    path("toggle/", features.feature_toggle, name="feature-toggle"),
    path("state/", features.feature_state_save, name="feature-state"),
    path("weights/", features.feature_weights_save, name="feature-weights"),
    path("settings/", features.feature_settings, name="feature-settings"),
    path("delete/", features.feature_delete, name="feature-delete"),
    path("environments/", features.feature_environments, name="feature-environments"),
    path("variations/", features.variation_add, name="variation-add"),
    path("variations/<int:option_id>/delete/", features.variation_delete, name="variation-delete"),
    path("segment-overrides/", features.segment_override_add, name="segment-override-add"),
    path(
        "segment-overrides/<int:override_id>/move/",
        features.segment_override_move,
        name="segment-override-move",
    ),
    path(
        "segment-overrides/<int:override_id>/remove/",
        features.segment_override_remove,
        name="segment-override-remove",
    ),
]

# One identity: .../identities/<identity_id>/...
identity_patterns: list[URLPattern | URLResolver] = [
    path("", identities.identity_detail, name="identity"),
    path("delete/", identities.identity_delete, name="identity-delete"),
    path("traits/", identities.trait_add, name="trait-add"),
    path("traits/<int:trait_id>/", identities.trait_edit, name="trait-edit"),
    path("traits/<int:trait_id>/delete/", identities.trait_delete, name="trait-delete"),
    path("overrides/", identities.override_set, name="identity-override-set"),
    path(
        "overrides/<int:state_id>/remove/",
        identities.override_remove,
        name="identity-override-remove",
    ),
]


# Grants on the project or environment of the prefix: .../permissions/...
def _permission_patterns(kind: str) -> list[URLPattern | URLResolver]:
    return [
        path("", grants.permissions_page, name=f"{kind}-permissions"),
        path("add/", grants.grant_add, name=f"{kind}-grant-add"),
        path("<int:grant_id>/", grants.grant_save, name=f"{kind}-grant-save"),
        path("<int:grant_id>/remove/", grants.grant_remove, name=f"{kind}-grant-remove"),
    ]


# Pages of one environment: /projects/<project_id>/environments/<client_key>/...
environment_patterns: list[URLPattern | URLResolver] = [
    path("", navigation.environment, name="environment"),
    path("features/", features.feature_list, name="features"),
    path("features/new/", features.feature_new, name="feature-new"),
    path("features/<int:feature_id>/", include(feature_patterns)),
    path("identities/", identities.identity_list, name="identities"),
    path("identities/new/", identities.identity_new, name="identity-new"),
    path("identities/<int:identity_id>/", include(identity_patterns)),
    path("evaluate/", evaluate.evaluate, name="evaluate"),
    path("compare/", compare.compare, name="compare"),
    path("audit/", audit.environment_audit, name="environment-audit"),
    path("settings/", settings.environment_settings, name="environment-settings"),
    path("settings/save/", settings.environment_settings_save, name="environment-settings-save"),
    path("settings/keys/", settings.server_key_create, name="server-key-create"),
    path(
        "settings/keys/<int:key_id>/revoke/", settings.server_key_revoke, name="server-key-revoke"
    ),
    path("settings/delete/", settings.environment_delete, name="environment-delete"),
    path("permissions/", include(_permission_patterns("environment"))),
    path("webhooks/", webhooks.webhooks, name="environment-webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="environment-webhook-create"),
    path(
        "webhooks/add/<str:kind>/",
        webhooks.integration_create,
        name="environment-integration-create",
    ),
    path("webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="environment-webhook"),
    path(
        "webhooks/<int:webhook_id>/test/",
        webhooks.webhook_test,
        name="environment-webhook-test",
    ),
    path(
        "webhooks/<int:webhook_id>/delete/",
        webhooks.webhook_delete,
        name="environment-webhook-delete",
    ),
]

# Pages of one project: /projects/<project_id>/...
project_patterns: list[URLPattern | URLResolver] = [
    path("", navigation.project, name="project"),
    path("environments/new/", navigation.environment_new, name="environment-new"),
    path("environments/<str:client_key>/", include(environment_patterns)),
    path("audit/", audit.project_audit, name="project-audit"),
    path("segments/", segments.segment_list, name="segments"),
    path("segments/new/", segments.segment_new, name="segment-new"),
    path("segments/<int:segment_id>/", segments.segment_detail, name="segment"),
    path("segments/<int:segment_id>/delete/", segments.segment_delete, name="segment-delete"),
    path("settings/", project_settings.project_settings, name="project-settings"),
    path("settings/save/", project_settings.project_settings_save, name="project-settings-save"),
    path("delete/", project_settings.project_delete, name="project-delete"),
    path("permissions/", include(_permission_patterns("project"))),
    path("integrations/", webhooks.webhooks, name="project-webhooks"),
    path("integrations/new/", webhooks.webhook_create, name="project-webhook-create"),
    path(
        "integrations/add/<str:kind>/",
        webhooks.integration_create,
        name="project-integration-create",
    ),
    path("integrations/<int:webhook_id>/", webhooks.webhook_detail, name="project-webhook"),
    path(
        "integrations/<int:webhook_id>/test/",
        webhooks.webhook_test,
        name="project-webhook-test",
    ),
    path(
        "integrations/<int:webhook_id>/delete/",
        webhooks.webhook_delete,
        name="project-webhook-delete",
    ),
]

# One group of an organisation: /organisations/<organisation_id>/groups/<group_id>/...
group_patterns: list[URLPattern | URLResolver] = [
    path("", groups.group_detail, name="group"),
    path("rename/", groups.group_rename, name="group-rename"),
    path("members/", groups.group_member_add, name="group-member-add"),
    path("members/<int:user_id>/remove/", groups.group_member_remove, name="group-member-remove"),
    path("delete/", groups.group_delete, name="group-delete"),
]

# Pages of one organisation: /organisations/<organisation_id>/...
organisation_patterns: list[URLPattern | URLResolver] = [
    path("", navigation.organisation, name="organisation"),
    path("settings/", organisation_settings.organisation_settings, name="organisation-settings"),
    path(
        "settings/save/",
        organisation_settings.organisation_settings_save,
        name="organisation-settings-save",
    ),
    path(
        "members/<int:membership_id>/role/", organisation_settings.member_role, name="member-role"
    ),
    path("master-keys/", organisation_settings.master_key_create, name="master-key-create"),
    path(
        "master-keys/<str:key_id>/revoke/",
        organisation_settings.master_key_revoke,
        name="master-key-revoke",
    ),
    path("delete/", organisation_settings.organisation_delete, name="organisation-delete"),
    path("invites/", invites.invite_create, name="invite-create"),
    path("invites/<int:invite_id>/resend/", invites.invite_resend, name="invite-resend"),
    path("invites/<int:invite_id>/revoke/", invites.invite_revoke, name="invite-revoke"),
    path("invite-links/", invites.invite_link_create, name="invite-link-create"),
    path(
        "invite-links/<int:link_id>/delete/", invites.invite_link_delete, name="invite-link-delete"
    ),
    path("audit/", audit.organisation_audit, name="organisation-audit"),
    path("projects/new/", navigation.project_new, name="project-new"),
    path("groups/", groups.group_list, name="groups"),
    path("groups/new/", groups.group_new, name="group-new"),
    path("groups/<int:group_id>/", include(group_patterns)),
]

# Webhooks of one organisation: /organisations/<organisation_id>/webhooks/...
organisation_webhook_patterns: list[URLPattern | URLResolver] = [
    path("webhooks/", webhooks.webhooks, name="organisation-webhooks"),
    path("webhooks/new/", webhooks.webhook_create, name="organisation-webhook-create"),
    path(
        "webhooks/add/<str:kind>/",
        webhooks.integration_create,
        name="organisation-integration-create",
    ),
    path("webhooks/<int:webhook_id>/", webhooks.webhook_detail, name="organisation-webhook"),
    path(
        "webhooks/<int:webhook_id>/test/",
        webhooks.webhook_test,
        name="organisation-webhook-test",
    ),
    path(
        "webhooks/<int:webhook_id>/delete/",
        webhooks.webhook_delete,
        name="organisation-webhook-delete",
    ),
]

urlpatterns: list[URLPattern | URLResolver] = [
    path("", navigation.home, name="home"),
    path("sign-in/", auth.sign_in, name="sign-in"),
    path("sign-up/", auth.sign_up, name="sign-up"),
    # The e-mail's link has no trailing slash (like the reset link's); accept both.
    re_path(
        r"^sign-up/confirm/(?P<token>[0-9A-Za-z_\-]{1,100})/?$",
        auth.sign_up_confirm,
        name="sign-up-confirm",
    ),
    path("sign-out/", auth.sign_out, name="sign-out"),
    path("account/", auth.account, name="account"),
    path("sign-in/code/", two_factor.sign_in_code, name="sign-in-code"),
    path("account/two-factor/", two_factor.two_factor_settings, name="two-factor"),
    path("password-reset/", password_reset.forgot_password, name="forgot-password"),
    # The e-mail's link has no trailing slash (djoser's shape); accept both.
    re_path(
        r"^password-reset/confirm/(?P<uid>[0-9A-Za-z_\-]{1,64})/(?P<token>[0-9A-Za-z\-]{1,128})/?$",
        password_reset.reset_password,
        name="reset-password",
    ),
    path("sso/oidc/login/", sso.sso_start, name="sso-login"),
    path("sso/oidc/callback/", sso.sso_callback, name="sso-callback"),
    # Flagsmith's link shapes, without a trailing slash: /invite/<hash>, /invite-link/<hash>
    re_path(r"^invite(?:-link)?/(?P<invite_hash>[^/]+)/?$", invites.invite_accept, name="invite"),
    re_path(
        r"^invite(?:-link)?/(?P<invite_hash>[^/]+)/sign-up/$",
        invites.invite_sign_up,
        name="invite-sign-up",
    ),
    path("organisations/new/", navigation.organisation_new, name="organisation-new"),
    path("organisations/<int:organisation_id>/", include(organisation_patterns)),
    path("projects/<int:project_id>/", include(project_patterns)),
    path("organisations/<int:organisation_id>/", include(organisation_webhook_patterns)),
]
