"""Errors of platform login verification (codes are contract, see docs/platforms.md)."""

from __future__ import annotations

from gamingpanel.errors import DomainError


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
