"""Nintendo Switch: an NSA ID token, checked against config from Nintendo's (NDA) docs.

Only community reverse-engineering describes the token (PLATFORMS.md §8): an RS256 JWT whose
`nintendo.ai` claim is the application id. Issuer, key URL and claim path are per-game config.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.platforms.errors import InvalidCredentials
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    config_str,
    config_url,
    platform_user_id,
    require_config,
    required_credential,
    value_at,
)
from apps.platforms.verifiers.keys import (
    ALGORITHMS_CONFIG,
    REPLAY_CONFIG,
    accept_once,
    config_algorithms,
    verify_jwt,
)

NAME = "nintendo"


class NintendoVerifier:
    name = NAME
    required_config = ("jwks_url", "issuer", "application_id")
    plain_config = (
        *required_config,
        "application_id_claim",
        "audience",
        *ALGORITHMS_CONFIG,
        *REPLAY_CONFIG,
    )
    secret_config: tuple[str, ...] = ()  # the token is checked against the platform's keys

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        algorithms = config_algorithms(NAME, config)
        token = required_credential(credentials, "id_token")
        jwks_url = config_url(NAME, config, "jwks_url")
        claims = verify_jwt(
            token,
            platform=NAME,
            jwks_url=jwks_url,
            issuer=config_str(NAME, config, "issuer"),
            audience=config_str(NAME, config, "audience") or None,  # empty: not checked
            require=("exp", "iat", "sub", "iss"),
            expected_jku=jwks_url,
            algorithms=algorithms,
        )
        # The "may play" check: the token was minted for this game's application id.
        claim = config_str(NAME, config, "application_id_claim", "nintendo.ai")
        application_id = value_at(claims, claim)
        expected = config_str(NAME, config, "application_id")
        if not isinstance(application_id, str) or application_id.lower() != expected.lower():
            raise InvalidCredentials("The nintendo token was issued for another application.")
        user_id = platform_user_id(NAME, "id token", claims["sub"])
        accept_once(token, claims, platform=NAME, config=config)
        return VerifiedIdentity(
            platform_user_id=user_id, display_name=None, entitlement_checked=True
        )


verifier = NintendoVerifier()
