"""Seasons decide where the open period of a season board ends, so a season created, moved or
deleted moves that end (connected in LeaderboardsConfig.ready, for every save of a Season).
Bans take a player's entries out of the rank index of every open period, and an unban puts
them back (accounts announces both on `operator_acted`; connected in LeaderboardsConfig.ready).
Lists and standings leave banned players out by reading `banned_until` themselves."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Model
from django.utils import timezone

from apps.battlepass.models import Season
from apps.leaderboards import index
from apps.leaderboards.models import Entry, Period
from apps.leaderboards.services.periods import follow_seasons
from apps.leaderboards.services.ranking import change_for, removal_for

BAN_ACTIONS = {"player.ban", "player.unban"}


def on_operator_action(sender: type[Model], *, action: str, target: Model, **kwargs: Any) -> None:
    if action not in BAN_ACTIONS:
        return
    banned = action == "player.ban"
    entries = list(
        Entry.objects.filter(player_id=target.pk, period__state=Period.State.OPEN).values_list(
            "period_id", "version", "rank_key", "reached_at"
        )
    )
    if not entries:
        return
    # A version newer than the entry's, so the index takes it; the next score is newer still.
    version = index.version_at(timezone.now())
    changes = [
        (
            period_id,
            removal_for(player_id=target.pk, version=max(version, stored + 1))
            if banned
            else change_for(
                player_id=target.pk,
                version=max(version, stored + 1),
                rank_key=rank_key,
                reached_at=reached_at,
            ),
        )
        for period_id, stored, rank_key, reached_at in entries
    ]

    def after_commit() -> None:
        for period_id, change in changes:
            index.apply(period_id, [change])

    transaction.on_commit(after_commit)


def on_season_changed(
    sender: type[Season], *, instance: Season, raw: bool = False, **kwargs: Any
) -> None:
    if raw:
        return  # loaddata: rows as they were saved, not an operator's change
    follow_seasons(game_id=instance.game_id)
