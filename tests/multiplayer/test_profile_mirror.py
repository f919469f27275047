"""The per-process profile mirror: a profile costs no query once mirrored, and any change to it
(by a service, a bulk update, the admin or plain SQL) reaches the mirror through PostgreSQL's
NOTIFY, so a game server never keeps getting an old name, level or ban."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from unittest import mock

import pytest
from django.db import connection
from django.utils import timezone

from apps.accounts.models import Player
from apps.multiplayer.profiles import APPLICATION_NAME, profiles
from apps.multiplayer.selectors import public_profile
from apps.stats.models import LevelCurve
from apps.stats.services import add_xp
from tests.accounts.conftest import dev_platform, login, start_web, tokens  # noqa: F401
from tests.conftest import eventually

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

SECOND = 1.0


@pytest.fixture
def running_mirror(settings) -> Iterator[None]:  # noqa: ANN001
    settings.PROFILE_MIRROR = True
    profiles.stop()
    profiles.start()
    yield
    profiles.stop()


def mirrored(game, player) -> dict:  # noqa: ANN001
    """Wait until the profile is served from the mirror; returns it."""

    def served_from_mirror() -> bool:
        public_profile(game_id=game.pk, player_id=player.pk)
        return profiles.row(game.pk, player.pk) is not None

    eventually(served_from_mirror, within=3)
    return public_profile(game_id=game.pk, player_id=player.pk)


def profile_becomes(game, player, expected: dict) -> float:  # noqa: ANN001
    """Seconds until the profile read as `expected` (fails after a second)."""
    return eventually(
        lambda: public_profile(game_id=game.pk, player_id=player.pk) == expected, within=SECOND
    )


def test_a_mirrored_profile_costs_no_query(running_mirror, game, player, django_assert_num_queries):
    expected = mirrored(game, player)

    with django_assert_num_queries(0):
        assert public_profile(game_id=game.pk, player_id=player.pk) == expected
    assert expected == {"display_name": "alice", "level": 1, "banned": False}


def test_a_bulk_rename_reaches_the_mirror(running_mirror, game, player):
    mirrored(game, player)

    Player.objects.filter(pk=player.pk).update(display_name="alice2")  # no signals, no save()

    took = profile_becomes(game, player, {"display_name": "alice2", "level": 1, "banned": False})
    assert took < SECOND


def test_xp_and_a_new_curve_reach_the_mirror(running_mirror, game, player):
    LevelCurve.objects.create(game=game, xp_per_level=100, growth_percent=0, max_level=50)
    mirrored(game, player)

    add_xp(game_id=game.pk, xp_by_player={player.pk: 250})  # an upsert
    took = [profile_becomes(game, player, {"display_name": "alice", "level": 3, "banned": False})]
    add_xp(game_id=game.pk, xp_by_player={player.pk: 100})
    took += [profile_becomes(game, player, {"display_name": "alice", "level": 4, "banned": False})]

    LevelCurve.objects.filter(game=game).update(xp_per_level=50)
    took += [profile_becomes(game, player, {"display_name": "alice", "level": 8, "banned": False})]
    assert max(took) < SECOND


def test_a_ban_made_in_plain_sql_reaches_the_mirror_and_one_ending_needs_no_message(
    running_mirror, game, player
):
    mirrored(game, player)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Player._meta.db_table} SET banned_until = %s WHERE id = %s",
            [timezone.now() + timedelta(seconds=1), player.pk],
        )

    profile_becomes(game, player, {"display_name": "alice", "level": 1, "banned": True})
    # The mirror keeps the ban's end, not a flag: the ban ends on time without a change.
    time.sleep(1.1)
    assert public_profile(game_id=game.pk, player_id=player.pk)["banned"] is False


def test_a_deleted_player_has_no_profile(running_mirror, game, player):
    mirrored(game, player)

    Player.objects.filter(pk=player.pk).delete()

    took = eventually(
        lambda: public_profile(game_id=game.pk, player_id=player.pk) is None, within=SECOND
    )
    assert took < SECOND


def test_a_change_made_while_the_listener_was_cut_off_is_not_served_stale(
    running_mirror, game, player
):
    mirrored(game, player)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            [APPLICATION_NAME],
        )
        assert cursor.fetchall() == [(True,)]  # the mirror's one listener
    Player.objects.filter(pk=player.pk).update(display_name="renamed")

    profile_becomes(game, player, {"display_name": "renamed", "level": 1, "banned": False})


def test_a_row_read_before_a_change_is_not_kept(running_mirror, game, player):
    mirrored(game, player)
    generation = profiles.generation(player.pk)
    old_row = profiles.row(game.pk, player.pk)

    Player.objects.filter(pk=player.pk).update(display_name="new")
    eventually(lambda: profiles.generation(player.pk) != generation, within=SECOND)
    profiles.remember(game.pk, player.pk, old_row, since=generation)

    assert profiles.row(game.pk, player.pk) is None


def test_a_profile_of_another_game_is_never_served(running_mirror, game, other_game, player):
    mirrored(game, player)

    assert public_profile(game_id=other_game.pk, player_id=player.pk) is None


@pytest.mark.redis
def test_another_process_serves_a_changed_profile_within_a_second(
    start_web,  # noqa: F811
    tokens,  # noqa: F811
    server_key,
):
    web = start_web()

    def display_name() -> str:
        _, _, body = web.request(
            "POST",
            "/api/v1/multiplayer/validate-token",
            {"token": tokens["access_token"]},
            {"X-Server-Key": server_key},
        )
        return body["player"]["display_name"]

    assert display_name() == "alice"
    time.sleep(0.5)  # long enough for the web process's mirror to hold the profile
    assert display_name() == "alice"

    Player.objects.update(display_name="alice2")

    took = eventually(lambda: display_name() == "alice2", within=SECOND)
    assert took < SECOND


def test_a_listener_that_stopped_listening_is_not_trusted(running_mirror, game, player):
    """Behind a transaction-pooling proxy a session answers queries but gets no notifications:
    the check asks PostgreSQL whether it listens on the channel, and drops the mirror if not
    (here: the channel it checks is not the one it listens on)."""
    mirrored(game, player)

    with mock.patch("apps.multiplayer.profiles.CHANNEL", "gp_nobody_listens_here"):
        took = eventually(lambda: profiles.row(game.pk, player.pk) is None, within=SECOND)
    assert took < SECOND
