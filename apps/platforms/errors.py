"""Errors of platform login verification (codes are contract, see docs/platforms.md)."""

from __future__ import annotations

from apps.accounts.errors import NotEntitled
from gamingpanel.errors import DomainError

# The four answers a verifier gives besides an identity, by what the game client should do:
# - InvalidCredentials (401): the credential itself is bad (signature, app or audience, expiry,
#   replay, a ticket or code the platform refused): get a fresh one from the SDK.
# - NotEntitled (403 `not_entitled`, defined with the other login refusals and re-exported
#   here): a valid account, and the platform's own ownership check said it does not own this
#   game (Steam `ownsapp: false` or a refused Family Sharing borrow, Epic `owned: false`, IDC
#   `owns_field` false): show the store page. Every platform answers it alike.
# - PlatformUnavailable (503): no usable answer, or the platform refused *our* key or client.
# - PlatformNotConfigured (400): the game's own config is missing or wrong.
__all__ = [
    "InvalidCredentials",
    "NotEntitled",
    "PlatformNotConfigured",
    "PlatformUnavailable",
    "UnsupportedPlatform",
]


class InvalidCredentials(DomainError):
    """The platform (or our own check of its signature) rejected what the client sent."""

    status, code, title = 401, "invalid_credentials", "Invalid credentials"


class PlatformUnavailable(DomainError):
    """The platform did not give a usable answer: timeout, 5xx, 429, garbage, or our key refused."""

    status, code, title = 503, "platform_unavailable", "Platform unavailable"


class PlatformNotConfigured(DomainError):
    """The game has no (or partial) credentials for this platform, or may not use it at all."""

    status, code, title = 400, "platform_not_configured", "Platform not configured"


class UnsupportedPlatform(DomainError):
    status, code, title = 400, "unsupported_platform", "Unsupported platform"
