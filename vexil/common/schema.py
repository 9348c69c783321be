"""OpenAPI description of the refusing authentication class (loaded by the app's ``ready``)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class UnrecognisedSchemeRefusal(OpenApiAuthenticationExtension):
    """No security scheme at all: the class only refuses headers no real scheme accepted.

    An empty ``name`` list registers no component, and no requirement is added to operations.
    """

    target_class = "vexil.common.authentication.UnrecognisedSchemeAuthentication"
    name: list[str] = []

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, list[Any]]]:
        return []

    def get_security_definition(self, auto_schema: Any) -> list[dict[str, Any]]:
        return []
