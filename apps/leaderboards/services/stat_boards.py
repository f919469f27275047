"""Stat boards follow match results: each value a match reports for a board's stat is a score
submission (once per match and player), combined by the board's operator. Multiplayer calls
`record_match_stats` inside the match's transaction (registered in LeaderboardsConfig.ready)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from apps.leaderboards.errors import BoardNotFound, InvalidScore, PlayerBanned
from apps.leaderboards.models import Board
from apps.leaderboards.services.submit import MAX_RULES_REREADS, StatBoardChanged, submit_score
from gamingpanel.shortcache import ShortCache

# A game's stat boards, read by every match: a board added or changed is followed within 2 s.
_stat_boards: ShortCache[list[Board]] = ShortCache(seconds=2)


def stat_boards(game_id: int) -> list[Board]:
    return (
        _stat_boards.get_or_load(
            game_id,
            lambda: list(Board.objects.filter(game_id=game_id, source=Board.Source.STAT)),
        )
        or []
    )


def record_match_stats(
    *,
    game_id: int,
    match_id: str,
    stats_by_player: Mapping[int, Mapping[str, int]],
    recorded_at: datetime,
) -> None:
    for board in stat_boards(game_id):
        for player_id, stats in sorted(stats_by_player.items()):
            for _ in range(MAX_RULES_REREADS + 1):
                # The list is kept 2 s: a board found following another stat now (or none),
                # its ranking rules changed while it held no entry, takes that stat's value.
                if board.source != Board.Source.STAT or board.stat_key not in stats:
                    break
                try:
                    submit_score(
                        board=board,
                        player_id=player_id,
                        score=stats[board.stat_key],
                        submission_id=f"match:{match_id}:{player_id}",
                        via_stat=True,
                        # One moment for the whole match: its players' scores land in one
                        # period, decided once. With the clock read per player, a period ending
                        # between two of them had this match hold it shared (an earlier player)
                        # and then ask to close it (a later one), deadlocking with another match
                        # doing the same.
                        at=recorded_at,
                    )
                except StatBoardChanged as changed:
                    board = changed.board
                    continue
                except (PlayerBanned, InvalidScore):
                    # A banned player's match still counts for the others; a stat value past a
                    # board's range is kept in the stats but not ranked.
                    pass
                except BoardNotFound:
                    pass  # moved to another game (it held no entry) or deleted meanwhile
                break
