"""Steam: a Web API auth ticket, checked by Valve with the game's publisher key (PLATFORMS.md §2)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.platforms.errors import InvalidCredentials, NotEntitled, PlatformUnavailable
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    clean_display_name,
    config_flag,
    config_str,
    invalid_input,
    require_config,
    required_credential,
)
from apps.platforms.verifiers.upstream import call, json_object, our_key_rejected, unavailable

NAME = "steam"
TICKET = re.compile(r"[0-9A-Fa-f]+")
STEAM_ID = re.compile(r"[0-9]{1,20}")
# A borrower is a valid account that does not own the game: `not_entitled`, as a non-owner is
# (the client shows the store page), never `invalid_credentials` (its ticket is fine).
SHARING_REFUSED = "This game does not accept Steam Family Sharing: this account does not own it."


def _get(path: str, params: dict[str, str], operation: str) -> dict[str, Any]:
    # The publisher key rides in the query string: `call` never logs URLs or exception text.
    response = call(
        "GET",
        f"{settings.STEAM_API_BASE_URL.rstrip('/')}{path}",
        params=params,
        platform=NAME,
        operation=operation,
    )
    if response.status_code in (401, 403):
        raise our_key_rejected(NAME, operation, response.status_code)
    if response.status_code != 200:
        raise unavailable(NAME, operation, f"HTTP {response.status_code}")
    return json_object(response, platform=NAME, operation=operation)


class SteamVerifier:
    name = NAME
    # `identity` is required: a ticket made for another service (another string) then fails.
    required_config = ("app_id", "publisher_key", "identity")
    plain_config = (
        "app_id",
        "identity",
        "allow_family_sharing",
        "check_ownership",
        "refuse_vac_banned",
    )
    secret_config = ("publisher_key",)

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        require_config(NAME, config, self.required_config)
        app_id = config_str(NAME, config, "app_id")
        key = config_str(NAME, config, "publisher_key")
        identity = config_str(NAME, config, "identity")
        allow_sharing = config_flag(NAME, config, "allow_family_sharing", default=True)
        check_ownership = config_flag(NAME, config, "check_ownership", default=True)
        refuse_vac_banned = config_flag(NAME, config, "refuse_vac_banned", default=False)
        ticket = required_credential(credentials, "ticket", max_length=8192)
        if not TICKET.fullmatch(ticket):
            raise invalid_input("ticket", "credentials.ticket must be the ticket's hex bytes.")

        # `identity` must be the string the game passed to GetAuthTicketForWebApi.
        params = {"key": key, "appid": app_id, "ticket": ticket, "identity": identity}
        answer = _get(
            "/ISteamUserAuth/AuthenticateUserTicket/v1/", params, "AuthenticateUserTicket"
        )
        params = self._authenticated(answer.get("response"))
        steam_id = params["steamid"]
        if refuse_vac_banned:
            if not isinstance(params.get("vacbanned"), bool):
                raise unavailable(NAME, "AuthenticateUserTicket", "no vacbanned flag")
            if params["vacbanned"]:
                raise InvalidCredentials("This Steam account has a VAC ban.")
        if not allow_sharing:
            owner_id = str(params.get("ownersteamid", ""))
            if not STEAM_ID.fullmatch(owner_id):
                raise unavailable(NAME, "AuthenticateUserTicket", "no ownersteamid")
            if owner_id != steam_id:  # a Family Sharing borrower: a valid account, no license
                raise NotEntitled(SHARING_REFUSED)
        if check_ownership:
            self._check_ownership(key, app_id, steam_id, allow_sharing=allow_sharing)
        return VerifiedIdentity(
            platform_user_id=steam_id,
            display_name=self._persona_name(key, steam_id),
            entitlement_checked=check_ownership,
            entitlement_waived=not check_ownership,
        )

    @staticmethod
    def _authenticated(payload: object) -> dict[str, Any]:
        """The ticket's params, with `steamid` checked; refusals and bans raise."""
        if not isinstance(payload, dict):
            raise unavailable(NAME, "AuthenticateUserTicket", "no response object")
        error = payload.get("error")
        if isinstance(error, dict):
            code = error.get("errorcode")
            raise InvalidCredentials(
                f"Steam rejected the ticket (error {code}).", platform_code=code
            )
        params = payload.get("params")
        if not isinstance(params, dict):
            raise unavailable(NAME, "AuthenticateUserTicket", "neither params nor error")
        result = params.get("result")
        if not isinstance(result, str):  # a malformed answer, not a refusal
            raise unavailable(NAME, "AuthenticateUserTicket", "no result")
        if result != "OK":
            raise InvalidCredentials("Steam did not confirm the ticket.")
        # Steam confirmed the ticket: a steamid we cannot read (absent, not a 64-bit number,
        # too long to store) is Steam's malformed answer, not the player's bad ticket.
        steam_id = params.get("steamid")
        if isinstance(steam_id, int) and not isinstance(steam_id, bool):
            steam_id = str(steam_id)
        if not isinstance(steam_id, str) or not STEAM_ID.fullmatch(steam_id):
            raise unavailable(NAME, "AuthenticateUserTicket", "no usable steamid")
        if params.get("publisherbanned") is True:
            raise InvalidCredentials("This Steam account is banned from this publisher's games.")
        return {**params, "steamid": steam_id}

    @staticmethod
    def _check_ownership(key: str, app_id: str, steam_id: str, *, allow_sharing: bool) -> None:
        answer = _get(
            "/ISteamUser/CheckAppOwnership/v4/",
            {"key": key, "steamid": steam_id, "appid": app_id},
            "CheckAppOwnership",
        )
        ownership = answer.get("appownership")
        if not isinstance(ownership, dict) or not isinstance(ownership.get("ownsapp"), bool):
            raise unavailable(NAME, "CheckAppOwnership", "no appownership.ownsapp")
        if not ownership["ownsapp"]:
            raise NotEntitled("This Steam account does not own the game.")
        if not allow_sharing:
            if not isinstance(ownership.get("permanent"), bool):
                raise unavailable(NAME, "CheckAppOwnership", "no appownership.permanent")
            if not ownership["permanent"]:  # a shared license
                raise NotEntitled(SHARING_REFUSED)

    @staticmethod
    def _persona_name(key: str, steam_id: str) -> str | None:
        """The public persona name; cosmetic, so any failure just leaves the name empty."""
        try:
            answer = _get(
                "/ISteamUser/GetPlayerSummaries/v2/",
                {"key": key, "steamids": steam_id},
                "GetPlayerSummaries",
            )
        except PlatformUnavailable:
            return None
        summaries = answer.get("response")
        players = summaries.get("players") if isinstance(summaries, dict) else None
        if not isinstance(players, list) or not players or not isinstance(players[0], dict):
            return None
        return clean_display_name(players[0].get("personaname"))


verifier = SteamVerifier()
