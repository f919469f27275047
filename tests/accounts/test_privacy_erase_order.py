"""The erasure clears the leaderboards last (apps.accounts.privacy, `erase_last`): removing an
open period's entry locks the period, which every score submitted to that board waits for,
until the erasure commits; the other sections' work (a player's many analytics events, cloud
saves) is done before, not while other players' scores wait. On PostgreSQL with a second
connection."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest
from django.db import connection

from apps.accounts import privacy
from apps.accounts.models import Game, Player
from apps.accounts.privacy import PrivacySection, erasure_order
from apps.accounts.services.privacy import erase_player
from apps.leaderboards.models import Board, Entry, Period
from apps.leaderboards.services.submit import submit_score

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def period_free(period_id: int) -> bool:
    """Whether another connection could lock the period now, as a submission to it does."""
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    with psycopg.connect(**params, autocommit=False) as other:
        try:
            other.execute(
                f"SELECT id FROM {Period._meta.db_table} WHERE id = %s FOR UPDATE NOWAIT",
                [period_id],
            )
        except psycopg.errors.LockNotAvailable:
            return False
        finally:
            other.rollback()
    return True


def test_every_other_section_is_erased_before_the_leaderboards_lock_a_period(
    game: Game, monkeypatch
):
    board = Board.objects.create(game=game, slug="high", name="High")
    player = Player.objects.create(game=game, display_name="alice")
    other = Player.objects.create(game=game, display_name="bob")
    submit_score(board=board, player_id=player.pk, score=50, submission_id="a")
    submit_score(board=board, player_id=other.pk, score=10, submission_id="b")
    period = Period.objects.get(board=board)

    free_during: dict[str, bool] = {}

    def watching(section: PrivacySection) -> PrivacySection:
        def erase(erased: Player) -> None:
            free_during[section.name] = period_free(period.pk)
            assert section.erase is not None
            section.erase(erased)

        return dataclasses.replace(section, erase=erase)

    watched = {
        name: watching(section) if section.erase is not None and name != "leaderboards" else section
        for name, section in privacy._sections.items()
    }
    monkeypatch.setattr(privacy, "_sections", watched)

    assert erase_player(player=player, actor=None) is True

    # Every section that erases something ran, each with the period still free to lock.
    assert set(free_during) == {
        s.name for s in erasure_order() if s.erase is not None and s.name != "leaderboards"
    }
    assert all(free_during.values()), free_during
    assert list(Entry.objects.values_list("player_id", flat=True)) == [other.pk]
    assert [s.name for s in erasure_order()][-1] == "leaderboards"
