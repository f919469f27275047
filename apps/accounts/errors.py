"""Errors of tenancy keys, tokens, sessions and identities (codes are contract: docs/auth.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from gamingpanel.errors import DomainError


class InvalidGameKey(DomainError):
    status, code, title = 401, "invalid_game_key", "Unknown game key"


class InvalidServerKey(DomainError):
    status, code, title = 401, "invalid_server_key", "Unknown or revoked server key"


class WrongCredentialKind(DomainError):
    status, code, title = 403, "wrong_credential_kind", "Wrong kind of credential"


class PermissionMissing(DomainError):
    """The token is valid but its `perms` claim lacks what the endpoint requires."""

    status, code, title = 403, "permission_missing", "Permission missing"


class TokenError(DomainError):
    """A bearer or refresh token we refuse; clients log in again (or refresh, when expired)."""

    status, code, title = 401, "invalid_token", "Invalid token"
    headers = {"WWW-Authenticate": 'Bearer realm="api", error="invalid_token"'}


class InvalidToken(TokenError):
    pass


class TokenExpired(TokenError):
    code, title = "token_expired", "Token expired"


class TokenRevoked(TokenError):
    code, title = "token_revoked", "Token revoked"


class AccountDeleted(TokenRevoked):
    """`token_revoked` for a token of an erased player, with `"account_deleted": true`: a client
    whose DELETE answer was lost learns the account is gone, not only this session (every other
    token_revoked has no such member; docs/guide/errors.md)."""

    def __init__(self, detail: str = "This account was deleted.") -> None:
        super().__init__(detail, account_deleted=True)


class RefreshTokenReused(TokenError):
    code, title = "refresh_token_reused", "Refresh token reused"


class PlayerBanned(DomainError):
    status, code, title = 403, "player_banned", "Player banned"

    @classmethod
    def until(cls, banned_until: datetime) -> PlayerBanned:
        """The refusal of a login or a refresh, with `banned_until`: when the ban ends, ISO 8601
        in UTC (`PERMANENT_BAN_UNTIL`, `9999-12-31T00:00:00+00:00`, for a permanent ban), so a
        client shows a ban alike whichever of the two found it (docs/auth.md)."""
        return cls("This player is banned.", banned_until=banned_until.astimezone(UTC).isoformat())


class NotEntitled(DomainError):
    """The platform verified the user but did not confirm they may play this game."""

    status, code, title = 403, "not_entitled", "Ownership not confirmed"


class IdentityTaken(DomainError):
    status, code, title = 409, "identity_taken", "Identity belongs to another player"


class PlatformAlreadyLinked(DomainError):
    status, code, title = 409, "platform_already_linked", "Platform already linked"


class LastIdentity(DomainError):
    status, code, title = 409, "last_identity", "Cannot unlink the last identity"


class IdentityNotLinked(DomainError):
    status, code, title = 404, "identity_not_linked", "Identity not linked"


class RateLimited(DomainError):
    status, code, title = 429, "rate_limited", "Too many requests"

    def __init__(self, detail: str = "", *, headers: dict[str, str]) -> None:
        super().__init__(detail)
        self.headers = headers


class ConfirmationRequired(DomainError):
    """DELETE player without the exact confirmation text in its `confirm` query parameter."""

    status, code, title = 400, "confirmation_required", "Confirmation required"


class PlayerErased(DomainError):
    """A write about a player whose account was erased (apps.accounts.services.privacy): the
    row is a nameless tombstone and nothing personal is written under it again."""

    status, code, title = 410, "player_erased", "The player's account was erased"
