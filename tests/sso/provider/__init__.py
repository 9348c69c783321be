"""A real OpenID Connect provider for the SSO tests, run as its own process on loopback.

It is a tiny Django project around django-oauth-toolkit with OIDC on (a dev dependency): the
authorization code flow with PKCE required, RS256-signed ID tokens, discovery, a key set and
userinfo. ``python -m tests.sso.provider CONFIG_JSON`` migrates a fresh SQLite file, creates the
users and the client named in the configuration, and serves on ``127.0.0.1:<port>`` until
stopped. Its cookies have their own names, so a browser talking to it and to Vexil on the same
loopback host keeps both sessions.
"""
