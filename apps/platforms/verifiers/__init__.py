"""Server-to-server login verification, one verifier per platform (see docs/platforms.md)."""

from __future__ import annotations

from apps.platforms.errors import UnsupportedPlatform
from apps.platforms.secret_settings import SecretSettings
from apps.platforms.verifiers import (
    apple,
    dev,
    epic,
    google_play,
    idcgames,
    nintendo,
    playstation,
    steam,
)
from apps.platforms.verifiers.base import VerifiedIdentity, Verifier

__all__ = ["PLATFORMS", "VerifiedIdentity", "Verifier", "declared_settings", "get_verifier"]

PLATFORMS: tuple[str, ...] = (
    "steam",
    "epic",
    "idcgames",
    "google_play",
    "apple",
    "playstation",
    "nintendo",
    "dev",
)

_VERIFIERS: dict[str, Verifier] = {
    module.verifier.name: module.verifier
    for module in (steam, epic, idcgames, google_play, apple, playstation, nintendo, dev)
}


def get_verifier(platform: object) -> Verifier:
    """The verifier for a platform name; anything else is 400 unsupported_platform."""
    verifier = _VERIFIERS.get(platform) if isinstance(platform, str) else None
    if verifier is None:
        raise UnsupportedPlatform(f"Unsupported platform. Use one of: {', '.join(PLATFORMS)}.")
    return verifier


def declared_settings(platform: object) -> SecretSettings:
    """Which settings the platform's verifier reads from config and which from secrets; for a
    name no verifier has, none (config is then held to the generic rule alone)."""
    verifier = _VERIFIERS.get(platform) if isinstance(platform, str) else None
    if verifier is None:
        return SecretSettings()
    return SecretSettings.of(plain=verifier.plain_config, secret=verifier.secret_config)
