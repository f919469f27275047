"""Writes of the accounts app, split by subject: tenancy (games, server keys, operator access),
login, sessions (refresh, logout, revocation), identities (link, unlink) and bans."""

from apps.accounts.services.tenancy import (
    IssuedServerKey,
    create_server_key,
    revoke_server_key,
    set_game_access,
)

__all__ = ["IssuedServerKey", "create_server_key", "revoke_server_key", "set_game_access"]
