from __future__ import annotations

from django.conf import settings


def configure() -> None:
    """Report errors to Sentry only when ``SENTRY_SDK_DSN`` is set."""
    if not settings.SENTRY_SDK_DSN:
        return
    import sentry_sdk  # imported only when enabled: it patches libraries as it loads
    from sentry_sdk.integrations.celery import CeleryIntegration
    from sentry_sdk.integrations.django import DjangoIntegration

    sentry_sdk.init(
        dsn=settings.SENTRY_SDK_DSN,
        environment=settings.ENV,
        release=settings.VERSION,
        traces_sample_rate=settings.SENTRY_TRACES_SAMPLE_RATE,
        integrations=[DjangoIntegration(), CeleryIntegration()],
        send_default_pii=False,
    )
