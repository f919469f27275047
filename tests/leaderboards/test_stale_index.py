"""An index update lost after its commit is not served for long: when Redis fails the update and
the drop that should follow it (one blip), or the web process dies before the update, the beat
task that runs every minute drops the index (the next rank read rebuilds it), and a closed
period's keys whose drop failed go too. Only what every beat minute runs is called here."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis
from celery import current_app
from django.conf import settings
from redis.exceptions import ConnectionError as RedisConnectionError

import apps.leaderboards.tasks  # noqa: F401  (registers the beat tasks)
from apps.accounts import hotcache
from apps.accounts.services.bans import ban_player
from apps.leaderboards import index
from apps.leaderboards.models import Entry
from apps.leaderboards.selectors import player_entry
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.services.submit import submit_score
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@contextmanager
def redis_blip(monkeypatch: pytest.MonkeyPatch, *failing: str) -> Iterator[None]:
    """These scripts and every DELETE (the drop that follows a failed update) fail, as in a
    network blip; Redis itself keeps its data and its run_id."""
    run_script = hotcache.run_script

    def run(client: object, source: str, keys: list[str], args: list[object]) -> object:
        if source in failing:
            raise RedisConnectionError("Connection refused")
        return run_script(client, source, keys, args)  # type: ignore[arg-type]

    def delete(self: redis.Redis, *names: object) -> int:
        raise RedisConnectionError("Connection refused")

    with monkeypatch.context() as patched:
        patched.setattr(hotcache, "run_script", run)
        patched.setattr(redis.Redis, "delete", delete)
        yield


def a_beat_minute() -> None:
    """Run every leaderboard task the beat runs at least once a minute."""
    for entry in settings.CELERY_BEAT_SCHEDULE.values():
        name = entry["task"]
        every_minute = (
            name.startswith("apps.leaderboards.")
            and isinstance(entry["schedule"], float | int)  # not the daily ones (crontab)
            and entry["schedule"] <= 60
        )
        if every_minute and name in current_app.tasks:
            current_app.tasks[name].apply().get()


def ranks(board, players) -> dict[int, int | None]:
    period = current(board)
    found = {p.pk: player_entry(period=period, player_id=p.pk) for p in players}
    return {pk: entry.rank if entry else None for pk, entry in found.items()}


def counted_in_postgres(board, players, monkeypatch) -> dict[int, int | None]:
    with monkeypatch.context() as patched:
        patched.setattr(index, "_client", lambda: None)
        return ranks(board, players)


@pytest.fixture
def players(board, make_players, django_capture_on_commit_callbacks):
    players = make_players(10)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(p, n) for n, p in enumerate(players)])  # players[9] first
    assert index.is_ready(current(board).pk)
    return players


def jump(board, players) -> None:
    submit_score(board=board, player_id=players[0].pk, score=1000, submission_id="jump")


def remove_top(board, players) -> None:
    remove_entry(entry=Entry.objects.get(player=players[9]), actor=None, reason="cheat")


def ban_top(board, players) -> None:
    ban_player(player=players[9], reason="cheat", until=None, actor=None)


@pytest.mark.parametrize(
    ("change", "script"),
    [(jump, index._UPDATE), (remove_top, index._UPDATE), (ban_top, index._FOLLOW)],
    ids=["score", "removal", "ban"],
)
def test_an_update_and_its_drop_lost_in_a_blip_are_made_good_within_a_beat_minute(
    board, players, change, script, monkeypatch, django_capture_on_commit_callbacks, caplog
):
    period = current(board)
    with redis_blip(monkeypatch, script), django_capture_on_commit_callbacks(execute=True):
        change(board, players)
    truth = counted_in_postgres(board, players, monkeypatch)
    assert index.is_ready(period.pk)  # Redis is back, same server: still taken as complete
    assert ranks(board, players) != truth  # served wrong until the repair

    a_beat_minute()

    assert ranks(board, players) == truth
    assert index.is_ready(period.pk)  # rebuilt by that read
    assert "the repair task drops it within a minute" in caplog.text


def test_a_closed_periods_keys_whose_drop_failed_go_within_a_beat_minute(
    board, players, monkeypatch, django_capture_on_commit_callbacks
):
    period = current(board)
    keys = index.Keys.of(period.pk)
    with redis_blip(monkeypatch), django_capture_on_commit_callbacks(execute=True):
        close_period(period_id=period.pk)
    client = index._client()
    assert client.exists(keys.members, keys.versions, keys.ready)

    a_beat_minute()

    assert not client.exists(keys.members, keys.versions, keys.ready, keys.building)


def test_a_first_score_whose_update_never_ran_is_found_missing(
    board, players, make_players, monkeypatch
):
    (late,) = make_players(1, prefix="late")
    submit_score(board=board, player_id=late.pk, score=7, submission_id="late")  # no callback
    everyone = [*players, late]
    truth = counted_in_postgres(board, everyone, monkeypatch)
    assert ranks(board, everyone) != truth

    a_beat_minute()

    assert ranks(board, everyone) == truth


def test_a_removal_whose_update_never_ran_is_found_extra(
    board, players, monkeypatch, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):  # the process died after the commit
        remove_top(board, players)
    truth = counted_in_postgres(board, players, monkeypatch)
    assert ranks(board, players) != truth

    a_beat_minute()

    assert ranks(board, players) == truth


def test_a_sound_index_is_left_alone(board, players, monkeypatch):
    period = current(board)
    client = index._client()
    members_before = client.zrange(index.Keys.of(period.pk).members, 0, -1)

    a_beat_minute()

    assert index.is_ready(period.pk)
    assert client.zrange(index.Keys.of(period.pk).members, 0, -1) == members_before
    assert ranks(board, players) == counted_in_postgres(board, players, monkeypatch)
