"""The importer's tests reuse the SDK tests' in-process client of the real ASGI application."""

from tests.sdk.conftest import sdk  # noqa: F401 (a fixture)
