"""Access tokens: filled in by the authentication work (issue 4)."""

from __future__ import annotations

from apps.accounts.models import Player
from gamingpanel.errors import NotImplementedYet


def authenticate_access_token(raw_token: str) -> tuple[Player, object]:
    raise NotImplementedYet("Player tokens are not available yet.")
