"""Integrations are delivered by the webhook machinery: the same loopback receivers and settings."""

from tests.webhooks.conftest import (  # noqa: F401  (fixtures, shared)
    _fast_deliveries,
    allow_loopback,
    receiver,
)
