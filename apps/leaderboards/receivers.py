"""Seasons decide where the open period of a season board ends, so a season created, moved or
deleted moves that end (connected in LeaderboardsConfig.ready, for every save of a Season).
Bans take a player's entries out of the rank index of every open period, and an unban puts
them back (accounts announces both on `operator_acted`; connected in LeaderboardsConfig.ready),
once the change has committed: the players one transaction bans or unbans (a segment ban's
chunk) are followed together, a batch at a time.
Lists and standings leave banned players out by reading `banned_until` themselves."""

from __future__ import annotations

import logging
import threading
from datetime import datetime
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from apps.accounts.models import Player
from apps.battlepass.models import Season
from apps.leaderboards import index
from apps.leaderboards.models import Entry, Period
from apps.leaderboards.services.periods import follow_seasons
from apps.leaderboards.services.ranking import change_for, newer_version, removal_for
from gamingpanel.shortcache import register_clearable

log = logging.getLogger(__name__)

BAN_ACTIONS = {"player.ban", "player.unban"}
# Players followed at a time: each batch reads their states, their entries and their games'
# open periods once, and writes to Redis in one round trip.
FOLLOW_BATCH = 500


class _Announced(threading.local):
    """The players whose ban or unban this thread's transactions announced (player id: game
    id), until a follow-up takes them."""

    def __init__(self) -> None:
        self.games: dict[int, int] = {}

    def clear(self) -> None:
        self.games = {}


_announced = register_clearable(_Announced())


def on_operator_action(sender: type[Model], *, action: str, target: Model, **kwargs: Any) -> None:
    if action not in BAN_ACTIONS:
        return
    _announced.games[target.pk] = cast(Player, target).game_id
    # After the commit, not in the ban's transaction: see _follow_batch. Every ban registers
    # the follow-up, and the first to run takes every player announced so far: a transaction's
    # bans (a segment ban's chunk) are followed together, and the others find nothing left. A
    # player whose ban was rolled back is followed with the next follow-up: harmless, following
    # reads the ban as it stands. Robust: a failure is logged, and the callbacks registered
    # after it (in a segment ban, the players' session revocations) still run.
    transaction.on_commit(_follow_announced, robust=True)


def _follow_announced() -> None:
    games, _announced.games = _announced.games, {}
    if games:
        follow_bans(games)


def follow_bans(games: dict[int, int]) -> None:
    """Follow the ban or unban of these players (player id: game id), FOLLOW_BATCH at a time;
    a batch that fails is logged, and the next ones are still followed."""
    if not index.enabled():
        return  # no Redis: no index to follow the bans
    player_ids = sorted(games)
    for start in range(0, len(player_ids), FOLLOW_BATCH):
        batch = {
            player_id: games[player_id] for player_id in player_ids[start : start + FOLLOW_BATCH]
        }
        try:
            _follow_batch(batch)
        except Exception:
            log.exception("leaderboard index: following the bans of %s players failed", len(batch))


def _follow_batch(games: dict[int, int]) -> None:
    """Make the rank index of every open period follow each player's ban as it stands now: out
    while banned, back once not (a ban's callback that runs after its unban's leaves them in).

    This runs after the ban commits: every submission that starts after the commit sees the ban
    and is refused. The removal still has to beat a submission that started before the commit,
    and it does:
    - an entry that submission wrote and committed is read here, and the removal's version is
      newer than it;
    - an entry it wrote but has not committed yet is still locked: this waits for the commit
      and then reads the entry (_settled_entries);
    - its statement may still be running and write after that read: it adds at most one to
      the version read here, and the removal adds at least two (ranking.newer_version);
    - a first entry it inserts is not seen here at all: every open period of the game where the
      player has no entry gets a removal at `version`. The submission read its clock before its
      statement began, so before the ban's commit and before this callback reads `version`, so
      the removal is newer. (This assumes the web hosts' clocks agree, as every version of the
      index already does.)
    The submission's index update, applied after its own commit, is then older than the
    removal and changes nothing.

    The clock is read before the players' state: of a ban's and an unban's callbacks, the one
    that reads the later state reads the later clock, and wins. Each player's changes are their
    own (the index keeps a version per player), so a batch's changes to one period go together
    in one script call."""
    version = index.version_at(timezone.now())
    states = Player.objects.filter(pk__in=list(games)).values_list("pk", "banned_until")
    now = timezone.now()
    # Deleted players are not read, and their entries went with them.
    banned = {player_id: until is not None and until > now for player_id, until in states}
    if not banned:
        return
    changes: dict[int, list[index.Change]] = {}
    entered: set[tuple[int, int]] = set()
    for period_id, player_id, stored, rank_key, reached_at in _settled_entries(list(banned)):
        newer = newer_version(version, stored)
        changes.setdefault(period_id, []).append(
            removal_for(player_id=player_id, version=newer)
            if banned[player_id]
            else change_for(
                player_id=player_id, version=newer, rank_key=rank_key, reached_at=reached_at
            )
        )
        entered.add((period_id, player_id))
    # Where a player has no entry: a removal while banned; once not, the removal a ban left
    # there is lifted, if older than `version` (a later ban's stays).
    players_in: dict[int, list[int]] = {}
    for player_id in banned:
        players_in.setdefault(games[player_id], []).append(player_id)
    lifted: dict[int, list[index.Change]] = {}
    for period_id, game_id in Period.objects.filter(
        board__game_id__in=list(players_in), state=Period.State.OPEN
    ).values_list("pk", "board__game_id"):
        for player_id in players_in[game_id]:
            if (period_id, player_id) not in entered:
                (changes if banned[player_id] else lifted).setdefault(period_id, []).append(
                    removal_for(player_id=player_id, version=version)
                )
    index.apply_where_indexed(changes, lifted)


ENTRY_FIELDS = ("period_id", "player_id", "version", "rank_key", "reached_at")


def _settled_entries(player_ids: list[int]) -> list[tuple[int, int, int, int, datetime]]:
    """The players' entries in open periods, each as its last committed write left it: an entry
    a transaction still holds (a submission that wrote it before the ban) is read once that
    transaction ends. This never waits for a row while it holds another (the rows free now are
    read with SKIP LOCKED, each held one is then waited for alone): a submission that holds one
    of a player's entries and writes the next would otherwise deadlock with it."""
    entries = Entry.objects.filter(player_id__in=player_ids, period__state=Period.State.OPEN)
    found = {(row[0], row[1]): row for row in entries.values_list(*ENTRY_FIELDS)}
    if not found or not connection.features.has_select_for_update_skip_locked:
        # None (a first entry under way is answered by _follow_batch), or SQLite: one writer at
        # a time, nothing is in flight.
        return list(found.values())
    with transaction.atomic():
        free = {
            (row[0], row[1]): row
            for row in entries.select_for_update(
                skip_locked=True, no_key=True, of=("self",)
            ).values_list(*ENTRY_FIELDS)
        }
    for period_id, player_id in sorted(found.keys() - free.keys()):
        with transaction.atomic():
            row = (
                Entry.objects.filter(
                    period_id=period_id, player_id=player_id, period__state=Period.State.OPEN
                )
                .select_for_update(no_key=True, of=("self",))
                .values_list(*ENTRY_FIELDS)
                .first()
            )
        if row is not None:
            free[period_id, player_id] = row
    return list(free.values())


def on_season_changed(
    sender: type[Season], *, instance: Season, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return  # loaddata: rows as they were saved, not an operator's change
    follow_seasons(game_id=instance.game_id)
