"""OpenAPI extensions of the common layer (loaded by the app's ``ready``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UnrecognisedSchemeAuthenticationScheme(OpenApiAuthenticationExtension):
    """The class that refuses unknown ``Authorization`` schemes is no scheme of its own: it adds
    nothing to an operation's security requirements or to the security schemes."""

    target_class = "vexil.common.authentication.UnrecognisedSchemeAuthentication"
    name: list[str] = []

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return []

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return []
