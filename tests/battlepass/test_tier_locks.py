"""A regeneration of a season's tiers locks the tiers only, on PostgreSQL: Tier's ordering
(["season", "level"], the season's ["game", ...]) joins the season and the game, and its
FOR UPDATE NOWAIT without OF took the game's row too, so any transaction holding that row (a
remote config edit holds it FOR NO KEY UPDATE to its commit) had the regeneration refused as if
players were claiming tiers."""

from __future__ import annotations

import threading

import pytest
from django.db import transaction

from apps.battlepass.authoring import TierPattern, generate_tiers
from apps.remoteconfig.services import set_key
from tests.conftest import in_thread

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_regeneration_is_not_refused_while_a_config_edit_of_the_game_is_under_way(game, season):
    editing, release = threading.Event(), threading.Event()

    def edit_config() -> None:
        with transaction.atomic():
            set_key(game=game, actor=None, key="speed", value=2)  # holds the game's row
            editing.set()
            release.wait(10)

    edit = in_thread(edit_config)
    try:
        assert editing.wait(10)
        tiers = generate_tiers(
            season=season,
            pattern=TierPattern(
                count=2, first_xp=100, free_lines=({"currency": "gold", "quantity": 5},)
            ),
            actor=None,
        )
    finally:
        release.set()
        edit.result(10)

    assert [tier.level for tier in tiers] == [1, 2]
    assert list(season.tiers.values_list("level", flat=True)) == [1, 2]
