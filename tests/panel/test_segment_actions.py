"""Segment actions: preview the size, run once for every player the filters pick (a ledger row
per player, one audit entry for the action), resubmission changes nothing, analysts 403."""

from __future__ import annotations

import pytest

from apps.accounts.models import PlatformIdentity, Player
from apps.audit.models import AuditLogEntry
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.panel import services, tasks
from apps.panel.models import SegmentAction
from tests.panel.confirming import confirm


def url(game, query: str = "") -> str:
    return f"/panel/games/{game.pk}/segment/{query}"


@pytest.fixture
def gold(game):
    return Currency.objects.create(game=game, code="gold", name="Gold", cap=1000)


@pytest.fixture
def steam_players(game):
    players = Player.objects.bulk_create(
        [Player(game=game, display_name=f"s{n}") for n in range(7)]
    )
    PlatformIdentity.objects.bulk_create(
        [
            PlatformIdentity(game=game, player=p, platform="steam", platform_user_id=str(p.pk))
            for p in players
        ]
    )
    return players


def grant_form(**extra) -> dict:
    return {
        "kind": "grant",
        "target": "currency:gold",
        "quantity": 100,
        "reason": "Outage on Tuesday",
        "idempotency_key": "form-1",
        "platform": "steam",
        **extra,
    }


def test_preview_counts_the_segment(operator_client, game, player, steam_players):
    page = operator_client.get(url(game, "?platform=steam"))
    assert page.status_code == 200
    assert page.context["size"] == 7
    assert operator_client.get(url(game)).context["size"] == 8


def test_grant_reaches_every_player_of_the_segment_once(
    operator_client, operator, game, player, steam_players, gold
):
    response = operator_client.post(url(game), grant_form())
    action = SegmentAction.objects.get()
    assert response.status_code == 302
    assert response["Location"].endswith(f"/segment/runs/{action.pk}/")
    assert (action.status, action.total, action.processed, action.changed) == ("done", 7, 7, 7)

    balances = dict(Wallet.objects.filter(currency=gold).values_list("player_id", "balance"))
    assert balances == {p.pk: 100 for p in steam_players}  # alice (not on steam) got nothing
    entries = LedgerEntry.objects.filter(currency=gold)
    assert entries.count() == 7
    assert {e.actor_id for e in entries} == {operator.pk}
    assert AuditLogEntry.objects.filter(action="segment.grant").count() == 1

    again = operator_client.post(url(game), grant_form())  # the same form again
    assert again["Location"] == response["Location"]
    assert SegmentAction.objects.count() == 1
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


def test_a_rerun_of_an_interrupted_action_grants_nobody_twice(
    operator, game, steam_players, gold, monkeypatch
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    calls = {"n": 0}
    real_chunk = services._run_chunk

    def crash_on_second_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(services, "_run_chunk", crash_on_second_chunk)
    with pytest.raises(RuntimeError):
        services.run_segment_action(action_id=action.pk)
    assert Wallet.objects.filter(currency=gold).count() == 3
    monkeypatch.setattr(services, "_run_chunk", real_chunk)
    done = services.run_segment_action(action_id=action.pk)
    assert (done.status, done.processed) == ("done", 7)
    assert (
        sorted(Wallet.objects.filter(currency=gold).values_list("balance", flat=True)) == [10] * 7
    )
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


def test_refusals_are_counted_and_listed_not_fatal(operator_client, game, steam_players, gold):
    Wallet.objects.create(player=steam_players[0], currency=gold, balance=950, cap=1000)
    operator_client.post(url(game), grant_form())
    action = SegmentAction.objects.get()
    assert (action.changed, action.skipped) == (6, 1)
    assert action.problems[0]["player"] == steam_players[0].pk
    assert Wallet.objects.get(player=steam_players[0], currency=gold).balance == 950
    page = operator_client.get(f"/panel/games/{game.pk}/segment/runs/{action.pk}/")
    assert "6 changed" in page.content.decode()


def test_ban_and_unban_a_segment(operator_client, game, player, steam_players):
    confirm(
        operator_client,
        url(game),
        {"kind": "ban", "reason": "bot wave", "idempotency_key": "b", "platform": "steam"},
    )
    assert Player.objects.filter(banned_until__isnull=False).count() == 7
    assert not Player.objects.get(pk=player.pk).is_banned
    operator_client.post(
        url(game),
        {"kind": "unban", "reason": "false alarm", "idempotency_key": "u", "platform": "steam"},
    )
    assert Player.objects.filter(banned_until__isnull=False).count() == 0


def test_bad_forms_change_nothing(operator_client, game, steam_players, gold):
    response = operator_client.post(url(game), grant_form(quantity="", target=""))
    assert response.status_code == 200
    assert "Pick the currency or item" in response.content.decode()
    assert not SegmentAction.objects.exists()


@pytest.mark.parametrize("newest", ["", "abc", "-1"])
def test_a_refused_form_with_a_bad_newest_player_is_shown_again(
    operator_client, game, steam_players, gold, newest
):
    response = operator_client.post(url(game), grant_form(reason="", max_player_id=newest))

    assert response.status_code == 200
    assert not SegmentAction.objects.exists()


def test_analysts_read_progress_but_cannot_act(
    analyst_client, operator_client, game, steam_players, gold
):
    assert analyst_client.get(url(game)).status_code == 403
    assert analyst_client.post(url(game), grant_form()).status_code == 403
    operator_client.post(url(game), grant_form())
    action = SegmentAction.objects.get()
    run_url = f"/panel/games/{game.pk}/segment/runs/{action.pk}/"
    assert analyst_client.get(run_url).status_code == 200
    assert analyst_client.post(run_url).status_code == 403


def test_another_games_operator_sees_nothing(other_operator, game, steam_players, gold):
    from tests.panel.conftest import client_for

    client = client_for(other_operator)
    assert client.get(url(game)).status_code == 404
    assert client.post(url(game), grant_form()).status_code == 404


def test_the_players_picked_at_submit_are_the_ones_the_run_reaches(
    operator, game, steam_players, gold, monkeypatch
):
    """Membership is frozen when the action is submitted: a picked player who stops matching
    before the run reaches them still gets it, one who starts matching does not."""
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    outsider = Player.objects.create(game=game, display_name="not-on-steam-yet")
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant",
        filters={"platform": "steam"}, reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    # Before the run: a member leaves Steam, the outsider links it.
    PlatformIdentity.objects.filter(player=steam_players[-1]).delete()
    PlatformIdentity.objects.create(
        game=game, player=outsider, platform="steam", platform_user_id="new"
    )

    done = services.run_segment_action(action_id=action.pk)

    reached = set(Wallet.objects.filter(currency=gold).values_list("player_id", flat=True))
    assert reached == {p.pk for p in steam_players}
    assert (done.total, done.processed, done.changed) == (7, 7, 7)


def test_an_action_submitted_before_members_were_kept_freezes_them_at_its_run(
    operator, game, steam_players, gold
):
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    action.members.all().delete()
    SegmentAction.objects.filter(pk=action.pk).update(members_frozen=False)

    done = services.run_segment_action(action_id=action.pk)

    assert (done.status, done.processed, done.changed) == ("done", 7, 7)
    assert Wallet.objects.filter(currency=gold).count() == 7


def test_a_segment_action_saved_while_the_queue_is_down_is_queued_by_the_same_form_again(
    operator_client, game, steam_players, gold, monkeypatch
):
    from apps.panel import tasks

    real_delay = tasks.run_segment_action.delay

    def broker_down(*args, **kwargs):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr(tasks.run_segment_action, "delay", broker_down)
    first = operator_client.post(url(game), grant_form(), follow=True)

    action = SegmentAction.objects.get()
    assert first.status_code == 200 and "task queue is unreachable" in first.content.decode()
    assert (action.status, action.total) == ("queued", 7)
    assert not LedgerEntry.objects.filter(currency=gold).exists()

    monkeypatch.setattr(tasks.run_segment_action, "delay", real_delay)
    again = operator_client.post(url(game), grant_form(), follow=True)

    assert "queued it now" in again.content.decode()
    assert SegmentAction.objects.get().status == "done"
    assert LedgerEntry.objects.filter(currency=gold).count() == 7


def test_an_action_out_of_retries_is_failed_and_queue_again_resumes_it(
    operator_client, game, steam_players, gold, monkeypatch
):
    from gamingpanel.celery import app as celery_app

    # As a worker runs it: each retry runs (eagerly, at once), and the last failure is Celery's
    # to handle rather than raised into the request.
    monkeypatch.setattr(celery_app.conf, "task_eager_propagates", False)
    monkeypatch.setattr(services, "CHUNK_SIZE", 3)
    real_chunk = services._run_chunk
    calls = {"n": 0}

    def database_gone_after_one_chunk(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] > 1:
            raise ConnectionError("database unreachable")
        return real_chunk(*args, **kwargs)

    monkeypatch.setattr(services, "_run_chunk", database_gone_after_one_chunk)
    operator_client.post(url(game), grant_form())

    action = SegmentAction.objects.get()
    assert (action.status, action.processed, action.failure) == ("failed", 3, "ConnectionError")
    assert calls["n"] == 2 + tasks.run_segment_action.max_retries  # every retry, then gave up
    page = operator_client.get(f"/panel/games/{game.pk}/segment/runs/{action.pk}/")
    assert page.status_code == 200 and page.context["refresh"] is False
    assert "The run stopped (ConnectionError)" in page.content.decode()

    monkeypatch.setattr(services, "_run_chunk", real_chunk)
    operator_client.post(f"/panel/games/{game.pk}/segment/runs/{action.pk}/")  # Queue again

    action.refresh_from_db()
    assert (action.status, action.processed, action.failure) == ("done", 7, "")
    assert LedgerEntry.objects.filter(currency=gold).count() == 7  # nobody twice


def test_a_segment_ban_never_shortens_a_longer_ban_nor_replaces_its_reason(
    operator, game, steam_players
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.accounts.models import PERMANENT_BAN_UNTIL
    from apps.accounts.services.bans import ban_player

    fraud, long_ban, free = steam_players[0], steam_players[1], steam_players[2]
    ban_player(player=fraud, reason="chargeback fraud", until=None, actor=operator)
    in_a_year = timezone.now() + timedelta(days=365)
    ban_player(player=long_ban, reason="cheating", until=in_a_year, actor=operator)
    next_week = timezone.now() + timedelta(days=7)
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="ban",
        filters={"platform": "steam"}, reason="spam wave", ban_until=next_week,
    )  # fmt: skip

    done = services.run_segment_action(action_id=action.pk)

    bans = {p.pk: (p.banned_until, p.ban_reason) for p in Player.objects.all()}
    assert bans[fraud.pk] == (PERMANENT_BAN_UNTIL, "chargeback fraud")
    assert bans[long_ban.pk] == (in_a_year, "cheating")
    assert bans[free.pk] == (next_week, "spam wave")
    assert (done.changed, done.skipped) == (5, 2)


def test_a_segment_unban_leaves_a_ban_set_after_it_was_submitted(operator, game, steam_players):
    from apps.accounts.services.bans import ban_player

    bot, cheater = steam_players[0], steam_players[1]
    ban_player(player=bot, reason="bot wave", until=None, actor=operator)
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="unban",
        filters={"platform": "steam"}, reason="false alarm",
    )  # fmt: skip
    ban_player(player=cheater, reason="aimbot", until=None, actor=operator)  # another operator

    done = services.run_segment_action(action_id=action.pk)

    assert not Player.objects.get(pk=bot.pk).is_banned
    assert Player.objects.get(pk=cheater.pk).ban_reason == "aimbot"
    assert done.changed == 1


def test_players_who_joined_after_the_form_was_shown_are_not_part_of_it(
    operator_client, game, steam_players, gold
):
    shown = operator_client.get(url(game, "?platform=steam"))
    newest = shown.context["form"]["max_player_id"].value()
    assert f'name="max_player_id" value="{newest}"' in shown.content.decode()  # sent back
    late = Player.objects.create(game=game, display_name="late")
    PlatformIdentity.objects.create(game=game, player=late, platform="steam", platform_user_id="l")

    operator_client.post(url(game), grant_form(max_player_id=newest))

    action = SegmentAction.objects.get()
    assert (shown.context["size"], action.total) == (7, 7)
    assert not Wallet.objects.filter(player=late).exists()


def test_a_grant_form_with_a_ban_end_filled_in_records_no_ban(
    operator_client, game, steam_players, gold
):
    operator_client.post(url(game), grant_form(ban_until="2031-01-01T00:00"))

    entry = AuditLogEntry.objects.get(action="segment.grant")
    assert "banned_until" not in entry.after
    assert SegmentAction.objects.get().ban_until is None


def test_a_long_run_goes_a_slice_per_task_each_queueing_the_next(
    operator, game, steam_players, gold, monkeypatch, settings
):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)
    settings.SEGMENT_RUN_SLICE_SECONDS = 0  # each task: one chunk, then the next task
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    ran = []
    real_run = services.run_segment_action
    monkeypatch.setattr(tasks, "run", lambda **kwargs: ran.append(kwargs) or real_run(**kwargs))

    tasks.run_segment_action.delay(action.pk)  # eager here: each slice queues the next

    done = SegmentAction.objects.get(pk=action.pk)
    assert (done.status, done.processed, done.changed) == ("done", 7, 7)
    assert len(ran) == 5  # 2 + 2 + 2 + 1, and one finding nothing left
    assert Wallet.objects.filter(currency=gold, balance=10).count() == 7


def test_a_run_that_stopped_without_recording_why_shows_as_stalled(
    operator_client, operator, game, steam_players, gold
):
    from datetime import timedelta

    from django.utils import timezone

    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="k", kind="grant", filters={},
        reason="r", change=services.Change("currency", "gold", 10),
    )  # fmt: skip
    page_url = f"/panel/games/{game.pk}/segment/runs/{action.pk}/"
    moving = timezone.now() - timedelta(minutes=1)
    SegmentAction.objects.filter(pk=action.pk).update(status="running", progressed_at=moving)
    assert operator_client.get(page_url).context["refresh"] is True  # still moving

    # Its last chunk was 11 minutes ago, and its failure could not be written.
    stuck_since = timezone.now() - timedelta(minutes=11)
    SegmentAction.objects.filter(pk=action.pk).update(progressed_at=stuck_since)
    page = operator_client.get(page_url)

    assert page.context["refresh"] is False
    assert "No progress since" in page.content.decode()
    operator_client.post(page_url)  # Queue again
    done = SegmentAction.objects.get(pk=action.pk)
    assert (done.status, done.changed) == ("done", 7)
    assert done.progressed_at > stuck_since
