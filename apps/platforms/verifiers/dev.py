"""The dev platform: any user id, no outbound call, only for sandbox games (PLATFORMS.md §9)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from django.conf import settings

from apps.platforms.errors import PlatformNotConfigured
from apps.platforms.verifiers.base import (
    VerifiedIdentity,
    client_display_name,
    invalid_input,
    required_credential,
)

NAME = "dev"
USER_ID = re.compile(r"[A-Za-z0-9_.-]{1,64}")


class DevVerifier:
    name = NAME
    required_config: tuple[str, ...] = ()  # `sandbox` is the game's own flag, not platform config
    plain_config: tuple[str, ...] = ()
    secret_config: tuple[str, ...] = ()

    def check_config(self, config: Mapping[str, Any]) -> None:
        """Whether a game with this config may use the platform at all, asked at every login
        and every refresh of a session it opened: anyone can claim any id here, so a production
        game (or a server with the platform off) must never accept it."""
        if not settings.PLATFORM_DEV_ENABLED:
            raise PlatformNotConfigured("The dev platform is disabled on this server.")
        if config.get("sandbox") is not True:
            raise PlatformNotConfigured("The dev platform is only for games in sandbox mode.")

    def verify(self, config: Mapping[str, Any], credentials: Mapping[str, Any]) -> VerifiedIdentity:
        self.check_config(config)
        user_id = required_credential(credentials, "user_id", max_length=64)
        if not USER_ID.fullmatch(user_id):
            raise invalid_input("user_id", "credentials.user_id must be 1-64 of A-Z a-z 0-9 _ . -")
        return VerifiedIdentity(
            platform_user_id=user_id,
            display_name=client_display_name(credentials),
            entitlement_checked=True,
        )


verifier = DevVerifier()
