"""The players one transaction bans or unbans (a segment ban's chunk) are followed together once
it commits: as many queries and one Redis round trip per batch however many players, with what
following each alone gave: banned players out of every open period, unbanned ones back in."""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import Player
from apps.accounts.services.bans import ban_player, unban_player
from apps.leaderboards import index, receivers
from apps.leaderboards.models import Entry
from apps.leaderboards.selectors import player_entry
from apps.leaderboards.services.ranking import rebuild_index
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


class Rollback(Exception):
    pass


def ban(*players: Player) -> None:
    for player in players:
        ban_player(player=player, reason="bots", until=None, actor=None)


def ids(players: list[Player]) -> list[int]:
    return [player.pk for player in players]


def stored(period_id: int, player: Player) -> bytes | None:
    """The index's "version:member" of the player in the period (member empty: left out)."""
    return index._client().hget(index.Keys.of(period_id).versions, str(player.pk))


@pytest.fixture
def apply_calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[int, list[index.Change]]]:
    """Every index.apply_where_indexed call (a Redis round trip), still applied."""
    calls: list[dict[int, list[index.Change]]] = []
    real = index.apply_where_indexed

    def recorded(changes: dict[int, list[index.Change]], *lifted: object) -> None:
        calls.append(changes)
        real(changes, *lifted)

    monkeypatch.setattr(index, "apply_where_indexed", recorded)
    return calls


def test_following_a_ban_of_many_players_costs_what_following_one_does(
    board, make_board, make_players, apply_calls, django_capture_on_commit_callbacks
):
    players = make_players(51)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(player, n) for n, player in enumerate(players)])
    period, empty = current(board), current(make_board("other"))  # nobody scored there yet
    rebuild_index(period_id=period.pk)
    rebuild_index(period_id=empty.pk)

    def cost_of_following(banned: list[Player]) -> tuple[int, int]:
        """Queries and Redis round trips of following a ban of these players in one transaction."""
        with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
            ban(*banned)
        apply_calls.clear()
        with CaptureQueriesContext(connection) as followed:
            for callback in callbacks:
                callback()
        return len(followed), len(apply_calls)

    one = cost_of_following(players[:1])
    many = cost_of_following(players[1:])

    assert many == one
    # States, entries, their locks (in a savepoint here), open periods; one Redis round trip.
    assert one[0] <= 6 and one[1] == 1
    assert index.left_out(period.pk, ids(players)) == set(ids(players))
    # A removal where they have no entry: a first score under way when they were banned loses.
    assert all(stored(empty.pk, player).endswith(b":") for player in players)


def test_a_transactions_bans_and_unbans_are_followed_together(
    board, make_board, make_players, other_game, apply_calls, django_capture_on_commit_callbacks
):
    low = make_board("low")
    theirs = make_board("theirs", game=other_game)
    a, b, c, d = make_players(4)
    (e,) = make_players(1, of=other_game, prefix="e")
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 40), (b, 30), (c, 20), (d, 10)])
        scores(low, [(b, 5), (c, 4)], prefix="l")
        scores(theirs, [(e, 7)], prefix="t")
    high, low_period, their_period = current(board), current(low), current(theirs)
    for period in (high, low_period, their_period):
        rebuild_index(period_id=period.pk)
    with django_capture_on_commit_callbacks(execute=True):
        ban(d)
    apply_calls.clear()

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ban(a, b, e)
        unban_player(player=d, actor=None)

    assert len(apply_calls) == 1
    assert index.left_out(high.pk, ids([a, b, c, d])) == {a.pk, b.pk}
    assert player_entry(period=high, player_id=c.pk).rank == 1
    assert player_entry(period=high, player_id=d.pk).rank == 2
    assert index.left_out(low_period.pk, ids([b, c])) == {b.pk}
    assert stored(low_period.pk, a).endswith(b":")  # no entry there: a removal all the same
    assert stored(low_period.pk, d) is None  # d's ban left one there; the unban lifted it
    assert index.left_out(their_period.pk, [e.pk]) == {e.pk}
    # Each player's removals only in the periods of their own game.
    assert stored(their_period.pk, a) is None and stored(high.pk, e) is None

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        for player in (a, b, e):
            unban_player(player=player, actor=None)

    assert index.left_out(high.pk, ids([a, b, c, d])) == set()
    assert player_entry(period=high, player_id=d.pk).rank == 4
    assert index.left_out(low_period.pk, ids([b, c])) == set()
    assert index.left_out(their_period.pk, [e.pk]) == set()
    assert stored(low_period.pk, a) is None


def test_an_unban_lifts_only_older_removals_where_the_player_has_no_entry(
    board, make_board, make_players, django_capture_on_commit_callbacks
):
    """Its own ban's removal goes; a first score's member applied since the unban read the
    entries, and a removal newer than the unban (a ban since), stay."""
    (a,) = make_players(1)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30)])
    periods = [current(board)] + [current(make_board(slug)) for slug in ("x", "y", "z")]
    for period in periods:
        rebuild_index(period_id=period.pk)
    high, lifted, scored, banned_again = periods
    with django_capture_on_commit_callbacks(execute=True):
        ban(a)
    assert all(stored(period.pk, a).endswith(b":") for period in periods)
    client, later = index._client(), index.version_at(timezone.now() + timedelta(hours=1))
    client.hset(index.Keys.of(scored.pk).versions, str(a.pk), "1:a member")
    client.hset(index.Keys.of(banned_again.pk).versions, str(a.pk), f"{later}:")

    with django_capture_on_commit_callbacks(execute=True):
        unban_player(player=a, actor=None)

    assert index.left_out(high.pk, [a.pk]) == set()
    assert stored(lifted.pk, a) is None
    assert stored(scored.pk, a) == b"1:a member"
    assert stored(banned_again.pk, a) == f"{later}:".encode()


def test_a_ban_undone_with_its_savepoint_leaves_the_player_ranked(
    board, make_players, django_capture_on_commit_callbacks
):
    """The transaction's first ban is rolled back with its savepoint, and the callback it
    registered with it: the bans after it are followed all the same. One rolled back after
    them is followed too, as the player stands: still ranked."""
    a, b, c = make_players(3)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(a, 30), (b, 20), (c, 10)])
    period = current(board)
    rebuild_index(period_id=period.pk)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        with suppress(Rollback), transaction.atomic():
            ban(a)
            raise Rollback
        ban(b)
        with suppress(Rollback), transaction.atomic():
            ban(c)
            raise Rollback

    assert index.left_out(period.pk, ids([a, b, c])) == {b.pk}
    assert player_entry(period=period, player_id=c.pk).rank == 2


@pytest.mark.django_db(transaction=True)
def test_a_ban_after_a_rolled_back_one_is_followed(board, make_players):
    a, b = make_players(2)
    scores(board, [(a, 30), (b, 20)])
    period = current(board)
    rebuild_index(period_id=period.pk)

    with suppress(Rollback), transaction.atomic():
        ban(a)
        raise Rollback
    ban(b)

    assert index.left_out(period.pk, ids([a, b])) == {b.pk}


def test_bans_are_followed_a_batch_at_a_time_and_a_failed_batch_stops_no_other(
    board, make_players, monkeypatch, caplog, django_capture_on_commit_callbacks
):
    players = make_players(5)
    with django_capture_on_commit_callbacks(execute=True):
        scores(board, [(player, n) for n, player in enumerate(players)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    monkeypatch.setattr(receivers, "FOLLOW_BATCH", 2)
    batches: list[set[int]] = []
    real = index.apply_where_indexed

    def first_fails(changes: dict[int, list[index.Change]], *lifted: object) -> None:
        batches.append({change.player_id for change in changes[period.pk]})
        if len(batches) == 1:
            raise RuntimeError("lost")
        real(changes, *lifted)

    monkeypatch.setattr(index, "apply_where_indexed", first_fails)

    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        ban(*reversed(players))

    assert batches == [set(ids(players[:2])), set(ids(players[2:4])), {players[4].pk}]
    assert index.left_out(period.pk, ids(players)) == set(ids(players[2:]))
    assert "following the bans of 2 players failed" in caplog.text


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_waits_alone_for_an_entry_a_transaction_still_holds(board, make_players):
    """The other players' entries are read at once (SKIP LOCKED); the held one once its
    transaction commits, so the removal is newer than what that transaction wrote."""
    held, free = make_players(2)
    scores(board, [(held, 30), (free, 20)])
    period = current(board)
    rebuild_index(period_id=period.pk)
    written = index.version_at(timezone.now() + timedelta(hours=1))  # only the holder's
    locked = threading.Event()

    def hold() -> None:
        with transaction.atomic():
            Entry.objects.select_for_update().get(period=period, player=held)
            locked.set()
            wait_until_a_statement_waits_for_a_lock()  # the ban's follow-up, for this row
            Entry.objects.filter(period=period, player=held).update(version=written)

    holder = in_thread(hold)
    assert locked.wait(10)
    ban(held, free)  # commits, then follows both
    holder.result(timeout=10)

    assert stored(period.pk, held) == f"{written + 2}:".encode()
    assert int(stored(period.pk, free).split(b":")[0]) < written
    assert index.left_out(period.pk, ids([held, free])) == {held.pk, free.pk}
