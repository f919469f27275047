"""The Redis rank index is a copy: ranks from it equal counts in PostgreSQL, losing its keys loses
nothing (they are rebuilt from the entries), its keys carry the deployment's prefix, and updates
arriving out of order keep the newer."""

from __future__ import annotations

import random

import pytest
from django.conf import settings

from apps.leaderboards import index
from apps.leaderboards.models import Entry
from apps.leaderboards.selectors import player_entry
from apps.leaderboards.services.ranking import change_for
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.django_db, pytest.mark.redis]


@pytest.fixture
def filled(board, make_players, django_capture_on_commit_callbacks):
    players = make_players(40)
    rng = random.Random(7)
    with django_capture_on_commit_callbacks(execute=True):
        # Few distinct scores: many ties, broken by who reached them first.
        scores(board, [(rng.choice(players), rng.randint(0, 8)) for _ in range(150)])
    return players


def ranks_by_player(board, players) -> dict[int, int | None]:
    period = current(board)
    found = {p.pk: player_entry(period=period, player_id=p.pk) for p in players}
    return {pk: entry.rank if entry else None for pk, entry in found.items()}


def counted_in_postgres(board, players, monkeypatch) -> dict[int, int | None]:
    with monkeypatch.context() as patched:
        patched.setattr(index, "_client", lambda: None)
        return ranks_by_player(board, players)


def test_ranks_from_the_index_equal_counts_in_postgres(board, filled, monkeypatch):
    period = current(board)
    assert index.is_ready(period.pk)
    client = index._client()
    assert client.zcard(index.Keys.of(period.pk).members) == Entry.objects.count()

    from_index = ranks_by_player(board, filled)
    assert from_index == counted_in_postgres(board, filled, monkeypatch)
    ranked = sorted(rank for rank in from_index.values() if rank)
    assert ranked == list(range(1, Entry.objects.count() + 1))


def test_flushed_keys_are_rebuilt_from_postgres_and_nothing_is_lost(board, filled, monkeypatch):
    period = current(board)
    before = ranks_by_player(board, filled)
    client = index._client()
    keys = index.Keys.of(period.pk)
    client.delete(keys.members, keys.versions, keys.ready)

    after = ranks_by_player(board, filled)  # the first read rebuilds (eager task)

    assert after == before == counted_in_postgres(board, filled, monkeypatch)
    assert index.is_ready(period.pk)
    assert client.zcard(keys.members) == Entry.objects.count()


def test_a_lost_index_whose_rebuild_cannot_be_queued_is_counted_instead(board, filled, monkeypatch):
    from unittest import mock

    from kombu.exceptions import OperationalError

    from apps.leaderboards.queued import rebuild_rank_index

    period = current(board)
    before = ranks_by_player(board, filled)
    keys = index.Keys.of(period.pk)
    index._client().delete(keys.members, keys.versions, keys.ready)

    with mock.patch.object(rebuild_rank_index, "delay", side_effect=OperationalError("down")):
        after = ranks_by_player(board, filled)  # no 500: the broker is down, ranks are counted

    assert after == before
    assert not index.is_ready(period.pk)


def test_a_closed_periods_index_is_never_built_again(
    board, filled, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from apps.leaderboards.services.periods import close_period
    from apps.leaderboards.services.ranking import rebuild_index

    period = current(board)
    keys = index.Keys.of(period.pk)
    client = index._client()
    with django_capture_on_commit_callbacks(execute=True):
        close_period(period_id=period.pk, now=timezone.now())
    assert not client.exists(keys.members, keys.ready)

    # A reader whose cache still took it for open asked for a build: it builds nothing.
    assert rebuild_index(period_id=period.pk) == 0
    assert not client.exists(keys.members, keys.versions, keys.ready, keys.building)


def test_every_key_carries_the_deployment_prefix(board, filled):
    client = index._client()
    period = current(board)
    mine = [key.decode() for key in client.scan_iter(match=f"*:lb:{period.pk}:*")]

    assert mine and all(key.startswith(f"{settings.CACHE_KEY_PREFIX}:lb:") for key in mine)


def test_an_older_update_arriving_late_does_not_undo_a_newer_one(board, player):
    period = current(board)
    index.mark_empty_ready(period.pk)
    entry_at = Entry(reached_at=period.starts_at)
    newer = change_for(
        player_id=player.pk, version=20, rank_key=-90, reached_at=entry_at.reached_at
    )
    older = change_for(
        player_id=player.pk, version=10, rank_key=-50, reached_at=entry_at.reached_at
    )

    index.apply(period.pk, [newer])
    index.apply(period.pk, [older])

    members = index._client().zrange(index.Keys.of(period.pk).members, 0, -1)
    assert [m.decode() for m in members] == [newer.member]


def test_the_member_order_is_the_boards_order():
    from datetime import UTC, datetime

    early, late = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 1, 2, tzinfo=UTC)
    members = [
        index.member_of(rank_key=-(2**62), reached_at=late, player_id=9),
        index.member_of(rank_key=-5, reached_at=early, player_id=9),
        index.member_of(rank_key=-5, reached_at=late, player_id=1),
        index.member_of(rank_key=-5, reached_at=late, player_id=2),
        index.member_of(rank_key=0, reached_at=early, player_id=1),
        index.member_of(rank_key=2**62, reached_at=early, player_id=1),
    ]

    assert sorted(members) == members
    assert index.player_of(members[3]) == 2


def test_a_newer_version_a_microsecond_later_is_applied(board, player):
    # Versions are microseconds since 1970 (16 digits): a number Lua writes with 14 digits
    # would store this one rounded up past the next.
    period = current(board)
    index.mark_empty_ready(period.pk)
    reached_at = period.starts_at
    first = change_for(
        player_id=player.pk, version=1_776_543_210_987_654, rank_key=-50, reached_at=reached_at
    )
    newer = change_for(
        player_id=player.pk, version=1_776_543_210_987_655, rank_key=-90, reached_at=reached_at
    )

    index.apply(period.pk, [first])
    index.apply(period.pk, [newer])
    index.apply(period.pk, [first])  # late, and older: changes nothing

    client = index._client()
    keys = index.Keys.of(period.pk)
    assert [m.decode() for m in client.zrange(keys.members, 0, -1)] == [newer.member]
    stored = client.hget(keys.versions, str(player.pk)).decode()
    assert stored == f"1776543210987655:{newer.member}"


def lose_index(period_id: int) -> None:
    keys = index.Keys.of(period_id)
    index._client().delete(keys.members, keys.versions, keys.ready)


def test_a_rebuild_that_fails_midway_never_marks_a_partial_index_ready(board, filled, monkeypatch):
    from redis.exceptions import ConnectionError as RedisConnectionError

    from apps.accounts import hotcache
    from apps.leaderboards.services import ranking

    period = current(board)
    lose_index(period.pk)
    batches = 0
    run_script = hotcache.run_script

    def second_batch_fails(client, source, keys, args):
        nonlocal batches
        if source in (index._UPDATE, getattr(index, "_BUILD_UPDATE", None)):
            batches += 1
            if batches == 2:
                raise RedisConnectionError("Connection reset by peer")
        return run_script(client, source, keys, args)

    with monkeypatch.context() as patched:
        patched.setattr(ranking, "REBUILD_BATCH", 5)
        patched.setattr(hotcache, "run_script", second_batch_fails)
        ranking.rebuild_index(period_id=period.pk)

    assert not index.is_ready(period.pk)  # ranks are counted in PostgreSQL meanwhile
    assert batches == 2  # it stopped at the failure
    # The next rank read builds it again, whole.
    assert ranks_by_player(board, filled) == counted_in_postgres(board, filled, monkeypatch)
    assert index.is_ready(period.pk)
    assert index._client().zcard(index.Keys.of(period.pk).members) == Entry.objects.count()


def test_a_rebuild_that_lost_its_lock_leaves_the_next_build_alone(board, filled, monkeypatch):
    from apps.leaderboards.services import ranking

    period = current(board)
    keys = index.Keys.of(period.pk)
    client = index._client()
    lose_index(period.pk)
    claimed = []
    apply = index.apply

    def lock_lost_then_claimed(period_id, changes, **options):
        if not claimed:
            client.delete(keys.building)  # expired: the build took too long
            claimed.append(index.claim_build(period_id))  # a reader claims another
        return apply(period_id, changes, **options)

    with monkeypatch.context() as patched:
        patched.setattr(ranking, "REBUILD_BATCH", 5)
        patched.setattr(index, "apply", lock_lost_then_claimed)
        ranking.rebuild_index(period_id=period.pk)

    assert claimed[0]
    assert not index.is_ready(period.pk)
    assert client.exists(keys.building)  # the second build's lock, still held
    assert ranking.rebuild_index(period_id=period.pk, token=claimed[0]) == Entry.objects.count()
    assert index.is_ready(period.pk) and not client.exists(keys.building)
    assert ranks_by_player(board, filled) == counted_in_postgres(board, filled, monkeypatch)


def test_an_index_a_restarted_redis_kept_is_rebuilt_not_served(board, filled, monkeypatch):
    """Redis restarted from its append-only file (written every second), or a replica took
    over: `ready` survived, the last updates did not. It was marked by the server before (its
    run_id), so the index is rebuilt from PostgreSQL instead of answering one rank too high
    for everyone behind the lost update."""
    period = current(board)
    keys = index.Keys.of(period.pk)
    client = index._client()
    expected = counted_in_postgres(board, filled, monkeypatch)
    top = Entry.objects.filter(period=period).order_by("rank_key", "reached_at", "player_id")[0]
    lost = index.member_of(
        rank_key=top.rank_key, reached_at=top.reached_at, player_id=top.player_id
    )
    client.zrem(keys.members, lost)  # the leader's last update, lost
    client.hdel(keys.versions, str(top.player_id))
    client.set(keys.ready, "0" * 40)  # the server before the restart marked it

    assert ranks_by_player(board, filled) == expected  # the first read rebuilds it (eager task)
    assert index.is_ready(period.pk)
    assert client.zcard(keys.members) == Entry.objects.count()


def test_a_rebuild_the_redis_restarted_under_is_not_marked_ready(board, filled, monkeypatch):
    """A rebuild writes its batches, Redis restarts (losing the last of them), the rebuild
    goes on: it must not mark that index ready. It lets its lock go, and the next read builds
    it again, whole."""
    from apps.leaderboards.services import ranking

    period = current(board)
    keys = index.Keys.of(period.pk)
    lose_index(period.pk)
    start_build = index.start_build

    def restarted_after_the_start(period_id, token):
        started = start_build(period_id, token)
        return started and "0" * 40  # the server the build began on is gone

    with monkeypatch.context() as patched:
        patched.setattr(index, "start_build", restarted_after_the_start)
        assert ranking.rebuild_index(period_id=period.pk) == 0

    assert not index.is_ready(period.pk)
    assert not index._client().exists(keys.building)
    assert ranks_by_player(board, filled) == counted_in_postgres(board, filled, monkeypatch)
    assert index.is_ready(period.pk)


def test_rank_reads_ask_redis_for_its_run_id_once_in_a_while(board, filled, monkeypatch):
    """One round trip per rank read: the server's run_id is read once per IDENTITY_SECONDS."""
    import redis

    period = current(board)
    monkeypatch.setattr(index, "IDENTITY_SECONDS", 60.0)
    index._identities.clear()
    asked = []
    info = redis.Redis.info

    def counted(self, *args, **kwargs):
        asked.append(args)
        return info(self, *args, **kwargs)

    monkeypatch.setattr(redis.Redis, "info", counted)
    ranks = ranks_by_player(board, filled)

    assert len(ranks) == len(filled) and asked == [("server",)]
    assert index.is_ready(period.pk)
