"""Seasons decide where the open period of a season board ends, so a season created, moved or
deleted moves that end (connected in LeaderboardsConfig.ready, for every save of a Season).
Bans take a player's entries out of the rank index of every open period, and an unban puts
them back (accounts announces both on `operator_acted`; connected in LeaderboardsConfig.ready),
once the change has committed.
Lists and standings leave banned players out by reading `banned_until` themselves."""

from __future__ import annotations

from datetime import datetime
from functools import partial
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

BAN_ACTIONS = {"player.ban", "player.unban"}


def on_operator_action(sender: type[Model], *, action: str, target: Model, **kwargs: Any) -> None:
    if action not in BAN_ACTIONS:
        return
    # After the commit, not in the ban's transaction: see follow_ban. Robust: a failure is
    # logged, and the callbacks registered after it (in a segment ban, the next players'
    # session revocations) still run.
    transaction.on_commit(
        partial(follow_ban, player_id=target.pk, game_id=cast(Player, target).game_id),
        robust=True,
    )


def follow_ban(*, player_id: int, game_id: int) -> None:
    """Make the rank index of every open period follow the player's ban as it stands now: out
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

    The clock is read before the player's state: of a ban's and an unban's callbacks, the one
    that reads the later state reads the later clock, and wins."""
    if not index.enabled():
        return  # no Redis: no index to follow the ban
    version = index.version_at(timezone.now())
    state = Player.objects.filter(pk=player_id).values_list("banned_until").first()
    if state is None:
        return  # deleted, and its entries with it
    banned = state[0] is not None and state[0] > timezone.now()
    changes: dict[int, list[index.Change]] = {}
    for period_id, stored, rank_key, reached_at in _settled_entries(player_id):
        newer = newer_version(version, stored)
        changes[period_id] = [
            removal_for(player_id=player_id, version=newer)
            if banned
            else change_for(
                player_id=player_id, version=newer, rank_key=rank_key, reached_at=reached_at
            )
        ]
    if banned:
        for period_id in Period.objects.filter(
            board__game_id=game_id, state=Period.State.OPEN
        ).values_list("pk", flat=True):
            changes.setdefault(period_id, [removal_for(player_id=player_id, version=version)])
    index.apply_where_indexed(changes)


ENTRY_FIELDS = ("period_id", "version", "rank_key", "reached_at")


def _settled_entries(player_id: int) -> list[tuple[int, int, int, datetime]]:
    """The player's entries in open periods, each as its last committed write left it: an entry
    a transaction still holds (a submission that wrote it before the ban) is read once that
    transaction ends. This never waits for a row while it holds another (the rows free now are
    read with SKIP LOCKED, a held one is then waited for alone): a submission that holds one of
    the player's entries and writes the next would otherwise deadlock with it."""
    entries = Entry.objects.filter(player_id=player_id, period__state=Period.State.OPEN)
    found = {row[0]: row for row in entries.values_list(*ENTRY_FIELDS)}
    if not found or not connection.features.has_select_for_update_skip_locked:
        # None (a first entry under way is answered by follow_ban), or SQLite: one writer at a
        # time, nothing is in flight.
        return list(found.values())
    with transaction.atomic():
        free = {
            row[0]: row
            for row in entries.select_for_update(
                skip_locked=True, no_key=True, of=("self",)
            ).values_list(*ENTRY_FIELDS)
        }
    for period_id in found.keys() - free.keys():
        with transaction.atomic():
            row = (
                entries.filter(period_id=period_id)
                .select_for_update(no_key=True, of=("self",))
                .values_list(*ENTRY_FIELDS)
                .first()
            )
        if row is not None:
            free[period_id] = row
    return list(free.values())


def on_season_changed(
    sender: type[Season], *, instance: Season, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return  # loaddata: rows as they were saved, not an operator's change
    follow_seasons(game_id=instance.game_id)
