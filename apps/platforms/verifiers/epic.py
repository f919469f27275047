"""Epic Online Services: an EOS Connect or Epic Account ID token (PLATFORMS.md §3)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.conf import settings

from apps.platforms.errors import InvalidCredentials, NotEntitled, PlatformNotConfigured
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    clean_display_name,
    config_int,
    config_list,
    config_str,
    invalid_input,
    platform_user_id,
    require_config,
    required_credential,
)
from apps.platforms.verifiers.keys import REPLAY_CONFIG, accept_once, verify_jwt
from apps.platforms.verifiers.upstream import (
    call,
    json_body,
    json_object,
    our_key_rejected,
    unavailable,
)

NAME = "epic"
JWKS_PATHS = {
    "connect": "/auth/v1/oauth/jwks",  # Product User ID tokens (EOS_Connect_CopyIdToken)
    "eas": "/epic/oauth/v2/.well-known/jwks.json",  # Epic Account tokens (EOS_Auth_CopyIdToken)
}
# What an EOS access token is made of ("eg1~" then JWT-like text); anything else, a CR or LF
# above all, must not reach an Authorization header.
BEARER_TOKEN = re.compile(r"[A-Za-z0-9._~+/=-]+")
# The token must belong to this game's product, sandbox and deployment, not just its client.
DEPLOYMENT_CLAIMS = {"pfpid": "product_id", "pfsid": "sandbox_id", "pfdid": "deployment_id"}
# A Connect token from EOS_Connect_CreateDeviceId carries no account info (`act`): anyone holding
# the client credentials shipped in the game can mint one, so it proves no identity.
DEVICE_ID = "deviceid"
# The EOS SDK hands back the ID token it cached, so a client retrying a login whose answer was
# lost presents the same token again: accepted for this long after its first use.
DEFAULT_REUSE_WINDOW_SECONDS = 60


class EpicVerifier:
    name = NAME
    required_config = ("client_id", "product_id", "sandbox_id", "deployment_id")
    plain_config = (
        *required_config,
        "mode",
        "allowed_account_types",
        "reuse_window_seconds",
        "catalog_item_id",
        *REPLAY_CONFIG,
    )
    secret_config: tuple[str, ...] = ()  # Epic's public keys check the tokens

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        mode = config_str(NAME, config, "mode", "connect").lower()
        if mode not in JWKS_PATHS:
            raise PlatformNotConfigured("epic config 'mode' must be 'connect' or 'eas'.")
        account_types = config_list(NAME, config, "allowed_account_types")
        reuse_window = config_int(
            NAME, config, "reuse_window_seconds", DEFAULT_REUSE_WINDOW_SECONDS
        )
        if reuse_window < 0:
            raise PlatformNotConfigured("epic config 'reuse_window_seconds' must not be negative.")
        catalog_item_id = config_str(NAME, config, "catalog_item_id")
        if catalog_item_id and mode != "eas":
            raise PlatformNotConfigured(
                "epic ownership (catalog_item_id) needs mode 'eas': it is checked per Epic account."
            )
        id_token = required_credential(credentials, "id_token")
        # EAS mode may also send an access_token; it is only used (and then required) for ownership.
        access_token = required_credential(credentials, "access_token") if catalog_item_id else ""
        if access_token and not BEARER_TOKEN.fullmatch(access_token):
            raise invalid_input("access_token", "credentials.access_token is not a bearer token.")

        base = settings.EPIC_API_BASE_URL.rstrip("/")
        claims = verify_jwt(
            id_token,
            platform=NAME,
            jwks_url=base + JWKS_PATHS[mode],
            audience=config_str(NAME, config, "client_id"),
            require=("exp", "iat", "sub", "iss", "aud"),
        )
        issuer = claims["iss"]
        if not isinstance(issuer, str) or not (issuer == base or issuer.startswith(base + "/")):
            raise InvalidCredentials("The epic token has the wrong issuer.")
        for claim, key in DEPLOYMENT_CLAIMS.items():
            if claims.get(claim) != config_str(NAME, config, key):
                raise InvalidCredentials("The epic token was issued for another deployment.")

        if mode == "connect":
            self._check_account_type(claims, account_types)

        # Checked before the ownership calls: an id no identity can store ends the login here.
        user_id = platform_user_id(NAME, "id token", claims["sub"])
        if catalog_item_id:
            self._check_ownership(
                base,
                user_id,
                access_token,
                config_str(NAME, config, "client_id"),
                config_str(NAME, config, "sandbox_id"),
                catalog_item_id,
            )
        accept_once(id_token, claims, platform=NAME, config=config, reuse_window=reuse_window)
        return VerifiedIdentity(
            platform_user_id=user_id,
            display_name=clean_display_name(claims.get("dn")),  # EAS only: Connect has no name
            entitlement_checked=True,
        )

    @staticmethod
    def _check_account_type(claims: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
        """`act.eat` names the identity provider the player logged in to EOS with. With no
        allow-list configured every provider but the anonymous Device ID is accepted."""
        account = claims.get("act")
        account_type = account.get("eat") if isinstance(account, Mapping) else None
        if not isinstance(account_type, str) or not account_type:
            account_type = DEVICE_ID
        account_type = account_type.lower()
        if allowed:
            accepted = account_type in {item.lower() for item in allowed}
        else:
            accepted = account_type != DEVICE_ID
        if not accepted:
            raise InvalidCredentials("This game does not accept this epic identity provider.")

    @staticmethod
    def _check_ownership(
        base: str, account_id: str, access_token: str, client_id: str, sandbox_id: str, item_id: str
    ) -> None:
        # The access token must be live and belong to the account the ID token names, or a
        # player could borrow an owner's token to pass the ownership check.
        response = call(
            "POST",
            f"{base}/epic/oauth/v2/tokenInfo",
            data={"token": access_token},
            platform=NAME,
            operation="tokenInfo",
        )
        if response.status_code in (400, 401):
            raise InvalidCredentials("Epic rejected the access token.")
        if response.status_code != 200:
            raise unavailable(NAME, "tokenInfo", f"HTTP {response.status_code}")
        info = json_object(response, platform=NAME, operation="tokenInfo")
        if not isinstance(info.get("active"), bool):  # a malformed answer, not a refusal
            raise unavailable(NAME, "tokenInfo", "no active flag")
        if not info["active"]:
            raise InvalidCredentials("The epic access token is not active.")
        if not isinstance(info.get("account_id"), str):
            raise unavailable(NAME, "tokenInfo", "no account_id")
        if info["account_id"] != account_id:
            raise InvalidCredentials("The epic access token belongs to another account.")
        token_client = info.get("client_id")
        if token_client is not None and not isinstance(token_client, str):
            raise unavailable(NAME, "tokenInfo", "a client_id that is not text")
        if token_client is not None and token_client != client_id:  # another game's client
            raise InvalidCredentials("The epic access token was issued to another client.")

        response = call(
            "GET",
            f"{base}/epic/ecom/v1/platforms/EPIC/identities/{quote(account_id, safe='')}/ownership",
            params={"nsCatalogItemId": f"{sandbox_id}:{item_id}"},
            headers={"Authorization": f"Bearer {access_token}"},
            platform=NAME,
            operation="ownership",
        )
        if response.status_code in (401, 403):
            # tokenInfo has just confirmed the token live, for this account and our client: a
            # refusal here is our client's permissions (its policy lacks ecom access), which
            # fails every player until an operator fixes it, never the player's fault.
            raise our_key_rejected(NAME, "ownership", response.status_code)
        if response.status_code != 200:
            raise unavailable(NAME, "ownership", f"HTTP {response.status_code}")
        records = json_body(response, platform=NAME, operation="ownership")
        if not isinstance(records, list):
            raise unavailable(NAME, "ownership", "JSON is not a list")
        # One record per item asked about, each {namespace, itemId, owned}: a record we cannot
        # read, or none for our item, is a malformed answer (503), never a "not owned".
        owned: list[bool] = []
        for record in records:
            if (
                not isinstance(record, dict)
                or not isinstance(record.get("itemId"), str)
                or not isinstance(record.get("owned"), bool)
            ):
                raise unavailable(NAME, "ownership", "a record without itemId or owned")
            if record["itemId"] == item_id:
                owned.append(record["owned"])
        if not owned:
            raise unavailable(NAME, "ownership", "no record for the catalog item")
        if not any(owned):
            raise NotEntitled("This Epic account does not own the game.")


verifier = EpicVerifier()
