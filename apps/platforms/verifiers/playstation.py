"""PlayStation Network: an auth code or ID token, checked against config from Sony's (NDA) docs.

Nothing here is public (PLATFORMS.md §7): the studio enters URLs, issuer and client from Sony's
documentation. The shape is plain OAuth 2 / OIDC: code → id_token at `token_url`, then the
id_token's signature, issuer, audience and expiry against `jwks_url`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from apps.platforms.errors import InvalidCredentials, PlatformNotConfigured
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    config_list,
    config_str,
    config_url,
    invalid_input,
    platform_user_id,
    require_config,
    require_object,
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
from apps.platforms.verifiers.upstream import call, json_object, our_key_rejected, unavailable

NAME = "playstation"
CODE_FLOW_CONFIG = ("token_url", "client_secret", "redirect_uri")


class PlayStationVerifier:
    name = NAME
    required_config = ("client_id", "jwks_url", "issuer")
    # token_url, token_params, id_token_field look secret by name, and are not.
    plain_config = (
        *required_config,
        "audience",
        "user_id_claim",
        "token_url",
        "client_auth",
        "redirect_uri",
        "token_params",
        "id_token_field",
        "allowed_issuer_ids",
        *ALGORITHMS_CONFIG,
        *REPLAY_CONFIG,
    )
    secret_config = ("client_secret",)

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        algorithms = config_algorithms(NAME, config)
        client_id = config_str(NAME, config, "client_id")
        jwks_url = config_url(NAME, config, "jwks_url")
        credentials = require_object(credentials)
        exchanged = "auth_code" in credentials
        if exchanged:
            require_config(NAME, config, CODE_FLOW_CONFIG)
            token_url = config_url(NAME, config, "token_url")
            code = required_credential(credentials, "auth_code", max_length=2048)
            self._check_environment(config, credentials)
            id_token = self._exchange(config, token_url, client_id, code)
        elif "id_token" in credentials:
            id_token = required_credential(credentials, "id_token")
        else:
            raise invalid_input("auth_code", "Send credentials.auth_code or credentials.id_token.")

        claims = verify_jwt(
            id_token,
            platform=NAME,
            jwks_url=jwks_url,
            issuer=config_str(NAME, config, "issuer"),
            # The "may play" check: the token was issued to this game's client.
            audience=config_str(NAME, config, "audience", client_id),
            require=("exp", "iat", "iss", "aud"),
            algorithms=algorithms,
        )
        user_id = value_at(claims, config_str(NAME, config, "user_id_claim", "sub"))
        if isinstance(user_id, bool) or not isinstance(user_id, str | int) or user_id == "":
            raise InvalidCredentials("The playstation token names no user.")
        user_id = platform_user_id(NAME, "id token", user_id)
        if not exchanged:  # a code is single-use at Sony already, and so is the token it gave us
            accept_once(id_token, claims, platform=NAME, config=config)
        return VerifiedIdentity(
            platform_user_id=user_id, display_name=None, entitlement_checked=True
        )

    @staticmethod
    def _check_environment(config: Mapping[str, Any], credentials: Mapping[str, Any]) -> None:
        """A code from a non-production environment is accepted only if the game allows it."""
        issuer_id = credentials.get("issuer_id")
        if issuer_id is None or issuer_id == "":
            return  # absent = production
        if isinstance(issuer_id, bool) or not isinstance(issuer_id, str | int):
            raise invalid_input("issuer_id", "credentials.issuer_id must be a number.")
        if str(issuer_id) not in config_list(NAME, config, "allowed_issuer_ids"):
            raise InvalidCredentials("This PlayStation environment is not allowed for this game.")

    @staticmethod
    def _exchange(config: Mapping[str, Any], token_url: str, client_id: str, code: str) -> str:
        form = {
            **_extra_token_params(config),
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": config_str(NAME, config, "redirect_uri"),
        }
        secret = config_str(NAME, config, "client_secret")
        client_auth = config_str(NAME, config, "client_auth", "basic").lower()
        if client_auth not in ("basic", "body"):
            raise PlatformNotConfigured("playstation config 'client_auth' must be basic or body.")
        auth = (client_id, secret) if client_auth == "basic" else None
        if auth is None:
            form |= {"client_id": client_id, "client_secret": secret}
        # Never retried: the code is single-use.
        response = call("POST", token_url, data=form, auth=auth, platform=NAME, operation="token")
        if response.status_code in (400, 401):
            try:
                error = response.json().get("error")
            except (ValueError, AttributeError, RecursionError):
                error = None
            if error == "invalid_client":  # our client secret: every login fails until fixed
                raise our_key_rejected(NAME, "token", response.status_code)
            raise InvalidCredentials("PlayStation rejected the auth code.")
        if response.status_code != 200:
            raise unavailable(NAME, "token", f"HTTP {response.status_code}")
        answer = json_object(response, platform=NAME, operation="token")
        id_token = value_at(answer, config_str(NAME, config, "id_token_field", "id_token"))
        if not isinstance(id_token, str) or not id_token:
            raise unavailable(NAME, "token", "no id_token")
        return id_token


def _extra_token_params(config: Mapping[str, Any]) -> dict[str, str]:
    """Form fields Sony's token endpoint wants besides the OAuth ones (a `scope`, say)."""
    extra = config.get("token_params") or {}
    if not isinstance(extra, Mapping) or not all(
        isinstance(name, str) and isinstance(value, str) for name, value in extra.items()
    ):
        raise PlatformNotConfigured("playstation config 'token_params' must map text to text.")
    return dict(extra)


verifier = PlayStationVerifier()
