"""The public profiles game servers get with every token check (display name, level, banned),
mirrored per process and kept current by PostgreSQL itself.

Triggers (migration 0002) on the player, progress and level-curve tables NOTIFY `CHANNEL` with
the player id (or `*` for a whole game's curve, or a TRUNCATE) whenever a column a profile is
made of changes, however it changes: a service, the admin, a bulk update or plain SQL. PostgreSQL
delivers a notification only when its transaction commits, before any later answer on the
listening connection. Each process's thread LISTENs, drops what changed, and every CHECK_SECONDS
runs a query on that connection; only for TRUST_SECONDS after such a round trip is the mirror
used. So a lost connection or a stalled thread sends every request back to the database within
TRUST_SECONDS, and a change reaches every process within milliseconds (TRUST_SECONDS at worst).
Only PostgreSQL has LISTEN: elsewhere, and with PROFILE_MIRROR=0, every profile is a query. The
listener needs a session of its own: behind a transaction-pooling proxy (PgBouncer) the check
finds it not listening, and the mirror stays unused.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import psycopg
from django.conf import settings
from django.db import connection

from gamingpanel.followers import Follower

logger = logging.getLogger(__name__)

CHANNEL = "gp_profile_changes"
APPLICATION_NAME = "gamingpanel-profile-mirror"  # in pg_stat_activity
EVERYONE = "*"
CHECK_SECONDS = 0.2
TRUST_SECONDS = 0.6
RETRY_SECONDS = 1.0
MAX_PROFILES = 200_000
BUCKETS = 1024  # generations per player-id bucket: a change elsewhere keeps filling in here

ProfileRow = tuple[Any, ...]


class ProfileMirror(Follower):
    thread_name = "profile-mirror"

    def __init__(self) -> None:
        self._rows: dict[int, tuple[int, ProfileRow]] = {}  # player id -> game id, row
        self._generations = [0] * BUCKETS
        self._trusted_until = 0.0
        super().__init__()

    def row(self, game_id: int, player_id: int) -> ProfileRow | None:
        """The player's profile row, or None when the database must be asked."""
        if not self._trusted():
            return None
        entry = self._rows.get(player_id)
        return entry[1] if entry is not None and entry[0] == game_id else None

    def generation(self, player_id: int) -> int:
        return self._generations[player_id % BUCKETS]

    def remember(self, game_id: int, player_id: int, row: ProfileRow, *, since: int) -> None:
        """Keep a row read from the database, unless this player (or their bucket) changed
        since `since`, a generation read before that read: the row could predate the change."""
        if not settings.PROFILE_MIRROR:
            return
        with self._changing:
            if self._generations[player_id % BUCKETS] != since:
                return
            if len(self._rows) >= MAX_PROFILES:
                self._rows.clear()
            self._rows[player_id] = (game_id, row)

    def _trusted(self) -> bool:
        if not settings.PROFILE_MIRROR:
            return False
        if self._thread is None:
            self.start()
        return time.monotonic() < self._trusted_until

    def forget(self) -> None:
        self._forget_everything()

    def _forget_everything(self) -> None:
        self._trusted_until = 0.0
        with self._changing:
            self._rows.clear()
            self._generations = [generation + 1 for generation in self._generations]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._listen()
            except Exception:
                logger.warning(
                    "profile mirror lost its database connection; profiles are read per "
                    "request until it is back",
                    exc_info=True,
                )
            finally:
                self._forget_everything()
            self._stop.wait(RETRY_SECONDS)

    def _listen(self) -> None:
        params = {
            "connect_timeout": 5,
            "keepalives": 1,
            "keepalives_idle": 30,
            **_connection_params(),
        }
        with psycopg.connect(**params, autocommit=True) as listener:
            listener.execute(f"LISTEN {CHANNEL}")
            # Anything may have changed while nobody listened.
            self._forget_everything()
            while not self._stop.is_set():
                for notify in listener.notifies(timeout=CHECK_SECONDS):
                    self._apply(notify.payload)
                checked_at = time.monotonic()
                # Delivers every notification committed before it, and proves this session
                # still listens (a transaction-pooling proxy would answer, but not notify).
                listening = listener.execute(
                    "SELECT 1 FROM pg_listening_channels() AS channel WHERE channel = %s",
                    [CHANNEL],
                ).fetchone()
                if listening is None:
                    raise RuntimeError("the profile listener's session does not LISTEN")
                for notify in listener.notifies(timeout=0):
                    self._apply(notify.payload)
                self._trusted_until = checked_at + TRUST_SECONDS

    def _apply(self, payload: str) -> None:
        if payload == EVERYONE:
            self._forget_everything()
            return
        player_id = int(payload)
        with self._changing:
            self._generations[player_id % BUCKETS] += 1
            self._rows.pop(player_id, None)


def _connection_params() -> dict[str, Any]:
    """The database Django uses, as psycopg connection arguments."""
    return {**connection.get_connection_params(), "application_name": APPLICATION_NAME}


profiles = ProfileMirror()
