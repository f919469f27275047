"""Google Play Games Services v2: a server auth code exchanged and checked (PLATFORMS.md §5)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from django.conf import settings

from apps.platforms.errors import InvalidCredentials
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    clean_display_name,
    config_str,
    platform_user_id,
    require_config,
    required_credential,
)
from apps.platforms.verifiers.upstream import (
    call,
    json_body,
    json_object,
    our_key_rejected,
    unavailable,
)

NAME = "google_play"
GAMES_SCOPE = "https://www.googleapis.com/auth/games_lite"


class GooglePlayVerifier:
    name = NAME
    required_config = ("client_id", "client_secret", "application_id")
    plain_config = ("client_id", "application_id")
    secret_config = ("client_secret",)

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        code = required_credential(credentials, "server_auth_code", max_length=2048)
        access_token = self._exchange(
            code, config_str(NAME, config, "client_id"), config_str(NAME, config, "client_secret")
        )
        headers = {"Authorization": f"Bearer {access_token}"}
        games = settings.GOOGLE_GAMES_API_BASE_URL.rstrip("/")

        # The app check: Google answers only if the token was granted to this game.
        application_id = quote(config_str(NAME, config, "application_id"), safe="")
        verified = self._get(f"{games}/applications/{application_id}/verify", headers, "verify")
        player_id = verified.get("player_id")
        if not isinstance(player_id, str) or not player_id:
            raise unavailable(NAME, "verify", "no player_id")

        me = self._get(f"{games}/players/me", headers, "players/me")
        me_id = me.get("playerId")
        if not isinstance(me_id, str) or not me_id:  # a malformed answer, as for verify
            raise unavailable(NAME, "players/me", "no playerId")
        # Both calls must name the same player (playerId, not gamePlayerId: never mix id types).
        if me_id != player_id:
            raise InvalidCredentials("Google Play named two different players for one code.")
        player_id = platform_user_id(NAME, "verify", player_id)  # one an identity can store
        # After Google changed a player's id, players/me names the id the game first saw
        # (`originalPlayerId`; verify's `alternate_player_id` says the same); our identity is
        # still stored under it.
        original = me.get("originalPlayerId") or verified.get("alternate_player_id")
        return VerifiedIdentity(
            platform_user_id=player_id,
            display_name=clean_display_name(me.get("displayName")),
            entitlement_checked=True,
            previous_platform_user_id=(
                original if isinstance(original, str) and original not in ("", player_id) else None
            ),
        )

    @staticmethod
    def _exchange(code: str, client_id: str, client_secret: str) -> str:
        # Never retried: the code is single-use, so after a timeout the client asks for a new one.
        response = call(
            "POST",
            settings.GOOGLE_OAUTH_TOKEN_URL,
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
                "client_secret": client_secret,
                "redirect_uri": "",
            },
            platform=NAME,
            operation="token",
        )
        body = json_body(response, platform=NAME, operation="token")
        if response.status_code != 200:
            error = body.get("error") if isinstance(body, dict) else None
            if error == "invalid_grant":  # used, expired, or issued to another client
                raise InvalidCredentials("Google Play rejected the server auth code.")
            raise our_key_rejected(NAME, f"token ({error})", response.status_code)
        if not isinstance(body, dict) or not isinstance(body.get("access_token"), str):
            raise unavailable(NAME, "token", "no access_token")
        scope = body.get("scope", "")
        if not isinstance(scope, str):  # a list's text would never hold the scope: not a 401
            raise unavailable(NAME, "token", "a scope that is not text")
        if GAMES_SCOPE not in scope.split():
            raise InvalidCredentials("The Google Play code was not granted the games scope.")
        return body["access_token"]

    @staticmethod
    def _get(url: str, headers: dict[str, str], operation: str) -> dict[str, Any]:
        response = call("GET", url, headers=headers, platform=NAME, operation=operation)
        # The token was granted to our own client, so verify refusing it (403) or not knowing
        # the application (404) means the game's application_id or client is misconfigured:
        # every player would fail, which must alert rather than look like bad credentials.
        if operation == "verify" and response.status_code in (403, 404):
            raise our_key_rejected(NAME, operation, response.status_code)
        if response.status_code in (401, 403, 404):
            raise InvalidCredentials("Google Play did not confirm this player for this game.")
        if response.status_code != 200:
            raise unavailable(NAME, operation, f"HTTP {response.status_code}")
        return json_object(response, platform=NAME, operation=operation)


verifier = GooglePlayVerifier()
