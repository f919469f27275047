"""A match result, in one transaction and once per match id: stats, XP to levels and to the
battle pass, analytics. Every step is a bulk statement, so 64 players cost what 4 do."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.db import IntegrityError, connection, transaction

from apps.accounts.models import Game, Player, ServerKey
from apps.analytics.services import ServerFact, record_server_events
from apps.battlepass.services import add_season_xp
from apps.multiplayer.errors import MatchIdConflict, PlayersNotInGame
from apps.multiplayer.models import Match, MatchResult, MatchSettings
from apps.multiplayer.selectors import match_xp, recorded_match, undeclared_stats_rule
from apps.stats.selectors import stat_definitions
from apps.stats.services import add_xp, apply_stats, check_stat_keys
from gamingpanel.sql import aware, row_lock


@dataclass(frozen=True)
class PlayerLine:
    player_id: int
    outcome: str
    score: int = 0
    stats: dict[str, int] = field(default_factory=dict)


# Apps above multiplayer that act on each new match (leaderboards fed by stats) register here at
# start-up (their AppConfig.ready); each is called inside the match's transaction, with keywords
# game_id, match_id, stats_by_player and recorded_at.
MatchListener = Callable[..., None]
_match_listeners: list[MatchListener] = []


def register_match_listener(listener: MatchListener) -> None:
    if listener not in _match_listeners:
        _match_listeners.append(listener)


@dataclass(frozen=True)
class RecordedMatch:
    match: Match
    results: list[MatchResult]  # in player id order
    created: bool  # False: this match id was already recorded, nothing changed


def lines_digest(*, mode: str, players: list[PlayerLine]) -> str:
    """What makes two posts of one match id the same result: the mode and each player's line,
    in player order (the times are left out: left unsent, they default to when it arrived)."""
    lines = sorted(
        (line.player_id, line.outcome, line.score, sorted(line.stats.items())) for line in players
    )
    text = json.dumps([mode, lines], separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


@transaction.atomic
def record_match_result(
    *,
    game: Game,
    match_id: str,
    mode: str,
    started_at: datetime,
    ended_at: datetime,
    players: list[PlayerLine],
    server_key: ServerKey | None = None,
) -> RecordedMatch:
    # Insert first, check after: a new match (the common case) costs no look-up, a repeat meets
    # the unique index, and a refused one rolls back with everything else.
    digest = lines_digest(mode=mode, players=players)
    try:
        with transaction.atomic():
            match = Match.objects.create(
                game=game,
                match_id=match_id,
                mode=mode,
                started_at=started_at,
                ended_at=ended_at,
                server_key=server_key,
                lines_digest=digest,
            )
    except IntegrityError:
        # The same match posted again or concurrently: we waited on the unique index until the
        # first post committed; answer with its result and change nothing. Other lines under
        # the same id are another match (a server that reused its counter after a restart): a
        # 200 would tell that server its match was recorded when it was dropped.
        first = recorded_match(game_id=game.pk, match_id=match_id)
        if first is None:
            raise
        if first.lines_digest and first.lines_digest != digest:
            raise MatchIdConflict(
                f"Match {match_id} was recorded {first.recorded_at.isoformat()} with other "
                "results: send this match under a new id."
            ) from None
        return RecordedMatch(first, _in_player_order(first.results.all()), created=False)
    # Banned or not as of the match's moment (when it arrived), the moment its stat-board scores
    # and season XP count at: a timed ban that lapses while the players' locks are awaited
    # neither grants the line stats and XP while its stat-board score is refused as banned.
    banned, erased = _players_of_game(
        game=game, player_ids=[line.player_id for line in players], at=match.recorded_at
    )
    # Every line is checked for undeclared stats, the erased players' too: the same body gets
    # the same answer whoever has been erased since the server sent it.
    players, ignored = _without_undeclared_stats(
        game_id=game.pk, players=players, uncounted=banned | erased
    )
    # An erased player's line is left out whole (no result, stats, XP, event progress or
    # analytics): nothing is written under the tombstone. The others' lines are recorded.
    players = [line for line in players if line.player_id not in erased]

    # A banned player's line is recorded (the match happened; a ban does not stop the server
    # from reporting it) but gives them nothing: no stats, XP, season XP or event progress,
    # which they could otherwise cash in once the ban ends.
    xp_for = match_xp(game_id=game.pk, mode=mode)
    xp_by_player = {
        line.player_id: 0 if line.player_id in banned else xp_for[line.outcome] for line in players
    }
    counted = [line for line in players if line.player_id not in banned]
    apply_stats(
        game_id=game.pk,
        stats_by_player={line.player_id: line.stats for line in counted},
        reported_at=ended_at,
    )
    levels = add_xp(game_id=game.pk, xp_by_player=xp_by_player)
    season_id = add_season_xp(game_id=game.pk, xp_by_player=xp_by_player, at=match.recorded_at)
    results = MatchResult.objects.bulk_create(
        [
            MatchResult(
                match=match,
                player_id=line.player_id,
                outcome=line.outcome,
                score=line.score,
                stats=line.stats,
                ignored_stats=ignored.get(line.player_id, []),
                xp_awarded=xp_by_player[line.player_id],
                season_xp_awarded=xp_by_player[line.player_id] if season_id else 0,
                level_before=levels[line.player_id].level_before,
                level_after=levels[line.player_id].level_after,
                recorded_at=match.recorded_at,
                counted=line.player_id not in banned,
            )
            for line in players
        ]
    )
    stats_by_player: Mapping[int, Mapping[str, int]] = {
        line.player_id: line.stats for line in counted if line.stats
    }
    for listener in _match_listeners:
        listener(
            game_id=game.pk,
            match_id=match_id,
            stats_by_player=stats_by_player,
            recorded_at=match.recorded_at,
        )
    record_server_events(
        game_id=game.pk,
        facts=[
            ServerFact(
                player_id=line.player_id,
                name="match_played",
                properties={"match_id": match_id, "mode": mode, "outcome": line.outcome},
                occurred_at=match.recorded_at,  # our clock: a server's clock cannot backdate facts
            )
            for line in players
        ],
    )
    return RecordedMatch(match, _in_player_order(results), created=True)


def _without_undeclared_stats(
    *, game_id: int, players: list[PlayerLine], uncounted: set[int]
) -> tuple[list[PlayerLine], dict[int, list[str]]]:
    """Under the game's "ignore" rule, each line without the stats the game does not define,
    and those names per player; under "refuse" (the default) the lines as sent, and
    apply_stats refuses an undeclared stat with 400 unknown_stat. A stat only uncounted lines
    carry (banned players', recorded without stats; erased players', left out) never reaches
    apply_stats, so it is checked here."""
    reported = {key for line in players for key in line.stats}
    if not reported:
        return players, {}
    if undeclared_stats_rule(game_id=game_id) != MatchSettings.UndeclaredStats.IGNORE:
        counted = {key for line in players if line.player_id not in uncounted for key in line.stats}
        if reported - counted:
            check_stat_keys(game_id=game_id, keys=reported)
        return players, {}
    defined = stat_definitions(game_id=game_id).keys()
    kept, ignored = [], {}
    for line in players:
        if unknown := sorted(line.stats.keys() - defined):
            ignored[line.player_id] = unknown
            line = replace(line, stats={k: v for k, v in line.stats.items() if k in defined})
        kept.append(line)
    return kept, ignored


# A player id is a BIGINT: no player has one outside it, and SQLite's driver cannot even bind one.
PLAYER_IDS = range(1, 2**63)


# FOR SHARE, in id order, before anything is written about them: an erasure (which holds the
# player's row FOR NO KEY UPDATE before it removes leaderboard entries) either waits for this
# match and then erases what it wrote, or has committed and the player's line is left out. Two
# matches share the locks.
_FOR_SHARE = " ORDER BY id" + row_lock("FOR SHARE")


def _players_of_game(
    *, game: Game, player_ids: list[int], at: datetime
) -> tuple[set[int], set[int]]:
    """Those of the players banned at `at` (the match's moment), and those erased (now, under
    the rows' share locks); 422 players_not_in_game when one is not the game's."""
    possible = [player_id for player_id in player_ids if player_id in PLAYER_IDS]
    rows: list[tuple[int, datetime | None, datetime | None]] = []
    if possible:
        marks = ", ".join(["%s"] * len(possible))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, banned_until, erased_at FROM {Player._meta.db_table}"  # noqa: S608
                f" WHERE game_id = %s AND id IN ({marks}){_FOR_SHARE}",
                [game.pk, *possible],
            )
            rows = [(id_, aware(until), aware(erased)) for id_, until, erased in cursor.fetchall()]
    if missing := sorted(set(player_ids) - {row[0] for row in rows}):
        # Another game's player and no player at all look the same: nothing leaks across games.
        raise PlayersNotInGame(
            f"No player {', '.join(map(str, missing))} in this game.", player_ids=missing
        )
    banned = {player_id for player_id, until, _ in rows if until is not None and until > at}
    erased = {player_id for player_id, _, erased_at in rows if erased_at is not None}
    return banned, erased


def _in_player_order(results: Iterable[MatchResult]) -> list[MatchResult]:
    return sorted(results, key=lambda result: result.player_id)
