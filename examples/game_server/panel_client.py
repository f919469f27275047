"""A game server's client for the Gaming Panel API (server-key calls only).

Uses `requests`. Every call sends the server key in `X-Server-Key` and a fresh `X-Request-ID`,
and turns problem JSON into `PanelError` with the stable `code`. Heartbeats and match results are
safe to repeat, so they are retried on network errors and 5xx; validation is not retried (the
joining player can simply try again).
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import requests

logger = logging.getLogger("game_server.panel")


class PanelError(Exception):
    """A problem answer from the panel (RFC 9457), or no usable answer at all."""

    def __init__(
        self, status: int, code: str, detail: str, request_id: str = "", problem: dict | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {detail} (request id {request_id or '-'})")
        self.status, self.code, self.detail, self.request_id = status, code, detail, request_id
        # The whole problem document: extension members such as `limit` (409 too_many_servers).
        self.problem = problem or {}


@dataclass(frozen=True)
class AdmittedPlayer:
    player_id: int
    display_name: str
    level: int
    expires_at: str


@dataclass(frozen=True)
class Refused:
    reason: str  # token_expired, token_revoked, player_banned, invalid_token, wrong_game


@dataclass
class PanelClient:
    base_url: str
    server_key: str
    timeout: float = 5.0
    retries: int = 3
    session: requests.Session = field(default_factory=requests.Session)

    # --- the three calls a game server makes -------------------------------------------------

    def validate_player(self, access_token: str) -> AdmittedPlayer | Refused:
        """Ask the panel whether this access token may join. Use the player_id it answers."""
        body = self._post("multiplayer/validate-token", {"token": access_token}, retry=False)
        if not body.get("valid"):
            return Refused(reason=body.get("reason", "invalid_token"))
        profile = body.get("player") or {}
        return AdmittedPlayer(
            player_id=body["player_id"],
            display_name=profile.get("display_name", ""),
            level=profile.get("level", 0),
            expires_at=body.get("expires_at", ""),
        )

    def heartbeat(self, **server: Any) -> int:
        """Register or refresh this server; returns the seconds before the next beat is due."""
        return self._post("multiplayer/servers/heartbeat", server)["ttl_seconds"]

    def deregister(self, server_id: str) -> None:
        """Off the server list at once (204), so a stopped server holds no place for `ttl_seconds`."""
        self._post("multiplayer/servers/deregister", {"server_id": server_id})

    def post_match_result(self, result: dict[str, Any]) -> dict[str, Any]:
        """Recorded once per match_id: a repeat (after a timeout) returns the first record."""
        return self._post("multiplayer/match-result", result)

    # --- plumbing ----------------------------------------------------------------------------

    def _post(self, path: str, payload: dict[str, Any], *, retry: bool = True) -> dict[str, Any]:
        attempts = self.retries if retry else 1
        for attempt in range(1, attempts + 1):
            request_id = uuid.uuid4().hex
            try:
                response = self.session.post(
                    f"{self.base_url.rstrip('/')}/api/v1/{path}",
                    json=payload,
                    headers={"X-Server-Key": self.server_key, "X-Request-ID": request_id},
                    timeout=self.timeout,
                )
            except requests.RequestException as exc:
                error = PanelError(0, "network_error", str(exc), request_id)
            else:
                if response.status_code < 400:
                    return response.json() if response.content else {}
                error = _problem(response, request_id)
                if response.status_code < 500 and response.status_code != 429:
                    raise error  # our request is wrong (or the key is): retrying cannot help
            # Never log the payload: validate-token carries a player's access token.
            logger.warning("panel call %s failed (attempt %d): %s", path, attempt, error)
            if attempt < attempts:
                time.sleep(min(2 ** (attempt - 1), 8))
        raise error


def _problem(response: requests.Response, request_id: str) -> PanelError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    return PanelError(
        response.status_code,
        body.get("code", "unknown"),
        body.get("detail", response.reason or ""),
        response.headers.get("X-Request-ID", request_id),
        body,
    )
