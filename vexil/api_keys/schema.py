"""OpenAPI description of the ``Api-Key`` scheme (loaded by the app's ``ready``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class MasterAPIKeyScheme(OpenApiAuthenticationExtension):
    target_class = "vexil.api_keys.authentication.MasterAPIKeyAuthentication"
    name = "masterApiKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "An organisation master API key: `Api-Key <prefix>.<secret>`.",
        }
