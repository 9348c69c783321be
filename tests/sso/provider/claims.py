from __future__ import annotations

from typing import Any

from oauth2_provider.oauth2_validators import OAuth2Validator


class EmailClaimsValidator(OAuth2Validator):
    """Puts ``email``, ``email_verified`` and the names in the ID token (scopes permitting).

    A user whose last name is ``unverified`` has an unverified address, for the tests that
    must refuse one.
    """

    def get_additional_claims(self, request: Any) -> dict[str, Any]:
        user = request.user
        return {
            "email": user.email,
            "email_verified": user.last_name != "unverified",
            "given_name": user.first_name,
            "family_name": user.last_name,
        }
