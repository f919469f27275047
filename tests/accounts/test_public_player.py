"""A player as other callers see it (a game server, another player): compiled reads that answer
what the ORM answers, and nothing for a player of another game."""

from datetime import UTC, datetime

import pytest
from django.db.models import Model

from apps.accounts.models import Player
from apps.accounts.selectors import public_fields_of, public_fields_statement, public_player
from gamingpanel.sql import run_together

pytestmark = pytest.mark.django_db

BANNED_UNTIL = datetime(2031, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)


def values(instance: Model) -> dict[str, object]:
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def test_public_player_is_the_orms_player(game, player):
    Player.objects.filter(pk=player.pk).update(banned_until=BANNED_UNTIL, ban_reason="spam")
    expected = Player.objects.get(pk=player.pk)

    found = public_player(game_id=game.pk, player_id=player.pk)

    assert found is not None and values(found) == values(expected)
    assert found.banned_until == BANNED_UNTIL


def test_public_player_of_another_game_or_gone_is_none(game, other_game, player):
    assert public_player(game_id=other_game.pk, player_id=player.pk) is None
    assert public_player(game_id=game.pk, player_id=player.pk + 1000) is None


def test_public_fields_are_the_name_and_an_aware_ban(game, other_game, player):
    Player.objects.filter(pk=player.pk).update(banned_until=BANNED_UNTIL)

    [rows, elsewhere] = run_together(
        [
            public_fields_statement(game_id=game.pk, player_id=player.pk),
            public_fields_statement(game_id=other_game.pk, player_id=player.pk),
        ]
    )

    assert public_fields_of(rows) == (player.display_name, BANNED_UNTIL, False)
    assert public_fields_of(elsewhere) is None
