"""Environment-key authentication for the SDK endpoints (protocol notes §1.2)."""

from __future__ import annotations

from vexil.evaluation.keys import EnvironmentRow
from vexil.sdk.context import SDKContext
from vexil.sdk.http import Request, error_response


class KeyRefusedError(Exception):
    def __init__(self, detail: str) -> None:
        self.response = error_response(403, detail, "permission_denied")


async def authenticate(
    context: SDKContext, request: Request, *, server_only: bool = False
) -> tuple[EnvironmentRow, bool]:
    """The environment the request's key opens and whether it is a server key, or raise."""
    key = request.header("x-environment-key").strip()
    if not key:
        raise KeyRefusedError("Invalid or missing Environment key")
    resolved = await context.resolve(key)
    if resolved is None:
        raise KeyRefusedError("Invalid or missing Environment Key")
    if not resolved.environment.serving:
        raise KeyRefusedError("Organisation is disabled from serving flags.")
    if server_only and not resolved.is_server:
        raise KeyRefusedError("This endpoint needs a server-side environment key (ser.…).")
    return resolved.environment, resolved.is_server
