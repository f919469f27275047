"""The cap on each game's distinct client event names (`ANALYTICS_MAX_EVENT_NAMES`).

`EventName` is the registry. A batch whose names this process has seen registered (in the last
KNOWN_SECONDS) costs no query; another name is looked up in the registry, and a name it does not
hold is registered under a per-game lock while the game has room, or refused. Names are
unregistered only by an operator deleting one in the admin (EventNameAdmin): that, or a raised
cap, is seen by every process within KNOWN_SECONDS.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.analytics.models import EventName
from gamingpanel.shortcache import register_clearable

# pg_advisory_xact_lock(namespace, game_id), held to the batch's commit by a batch registering
# names; aggregation's lock is 7_301.
NAMES_LOCK_NAMESPACE = 7_302
# How long a process trusts what it saw of a game's registry: a name it saw registered, and that
# the game was full.
KNOWN_SECONDS = 60
# Names a process keeps across all games (a few MB) before it starts over.
MAX_KNOWN_NAMES = 100_000
_clock = time.monotonic  # tests move it


@dataclass
class _Seen:
    at: float
    names: set[str] = field(default_factory=set)
    full: bool = False


class _KnownNames:
    """Per process, per game: names seen registered (and committed), and whether the game was
    seen full. Each game's entry is dropped KNOWN_SECONDS after it was made."""

    def __init__(self) -> None:
        self._games: dict[int, _Seen] = {}
        self._size = 0
        self._lock = threading.Lock()
        register_clearable(self)

    def _entry(self, game_id: int, now: float) -> _Seen | None:
        seen = self._games.get(game_id)
        if seen is not None and now - seen.at >= KNOWN_SECONDS:
            self._size -= len(seen.names)
            del self._games[game_id]
            return None
        return seen

    def known(self, game_id: int, names: Iterable[str]) -> tuple[set[str], bool]:
        """Of `names`, those seen registered; and whether the game was seen full."""
        with self._lock:
            seen = self._entry(game_id, _clock())
            if seen is None:
                return set(), False
            return {name for name in names if name in seen.names}, seen.full

    def add(self, game_id: int, names: Iterable[str] = (), *, full: bool = False) -> None:
        now = _clock()
        with self._lock:
            seen = self._entry(game_id, now)
            if seen is None:
                seen = self._games[game_id] = _Seen(at=now)
            seen.full = seen.full or full
            # At most a cap's worth per game: a game over the cap (its names kept from before)
            # has the rest looked up.
            room = settings.ANALYTICS_MAX_EVENT_NAMES - len(seen.names)
            fresh = [name for name in names if name not in seen.names][: max(room, 0)]
            if self._size + len(fresh) > MAX_KNOWN_NAMES:
                self._games = {game_id: seen}
                self._size = len(seen.names)
            seen.names.update(fresh)
            self._size += len(fresh)

    def clear(self) -> None:
        with self._lock:
            self._games.clear()
            self._size = 0


_known = _KnownNames()


def names_over_cap(*, game_id: int, names: Sequence[str]) -> set[str]:
    """Of a batch's event names (in batch order), those the game may not use: not registered,
    and no room left under ANALYTICS_MAX_EVENT_NAMES. The others are registered if they were
    not, the first ones of the batch first.

    Call inside the batch's transaction: on PostgreSQL a batch that registers names holds the
    game's lock to its commit, so concurrent batches never take the game past the cap. (SQLite,
    for development only, has no such lock: concurrent batches may each take the last places.)
    """
    wanted = list(dict.fromkeys(names))
    cached, full = _known.known(game_id, wanted)
    missing = [name for name in wanted if name not in cached]
    if not missing:
        return set()
    registry = EventName.objects.filter(game_id=game_id)
    registered = set(registry.filter(name__in=missing).values_list("name", flat=True))
    new = [name for name in missing if name not in registered]
    refused: set[str] = set(new) if full else set()
    if new and not full:
        refused = _register(game_id, new)
    admitted = [name for name in missing if name not in refused]
    # Only once committed: a batch rolled back must leave no name known that is not registered.
    transaction.on_commit(lambda: _known.add(game_id, admitted))
    return refused


def _register(game_id: int, new: list[str]) -> set[str]:
    """Register the first of `new` the game has room for; returns the names left out."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [NAMES_LOCK_NAMESPACE, game_id])
    registry = EventName.objects.filter(game_id=game_id)
    # Under the lock, read anew: a batch that held it before us has committed its names.
    taken = set(registry.filter(name__in=new).values_list("name", flat=True))
    new = [name for name in new if name not in taken]
    cap = settings.ANALYTICS_MAX_EVENT_NAMES
    # Counted up to the cap only: a game over it (names from before the cap) is not read whole.
    room = cap - registry[:cap].count()
    if room <= 0:
        _known.add(game_id, full=True)  # committed rows only: true whatever becomes of this batch
        return set(new)
    today = timezone.now().date()
    EventName.objects.bulk_create(
        [EventName(game_id=game_id, name=name, first_seen=today) for name in new[:room]],
        # Without the lock (SQLite) a concurrent batch may register the same name first.
        ignore_conflicts=True,
    )
    return set(new[room:])
