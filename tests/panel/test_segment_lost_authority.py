"""A segment run acts as the operator who submitted it, and only while that operator may still do
it (docs/panel.md): every chunk checks the operator is still active staff with a role that
changes the game (owner or operator). One who lost it (the role taken away, the account
deactivated or deleted) stops the run with a recorded reason (`failed`, `operator_lost_access`,
an audit entry `segment.stop`); the players it reached keep their change, the sweep leaves it,
and an operator who may do it takes it over with Queue again (it then acts as them)."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess, Player
from apps.audit.models import AuditLogEntry
from apps.panel import services
from apps.panel.models import LOST_AUTHORITY, SegmentAction
from tests.conftest import in_thread, wait_until_a_statement_waits_for_a_lock


@pytest.fixture
def small_chunks(monkeypatch):
    monkeypatch.setattr(services, "CHUNK_SIZE", 2)


def players(game, count=4):
    return Player.objects.bulk_create(
        [Player(game=game, display_name=f"p{n}") for n in range(count)]
    )


def submit_ban(game, actor, key="k"):
    action, _ = services.submit_segment_action(
        game=game, actor=actor, idempotency_key=key, kind="ban", filters={}, reason="bot wave"
    )
    return action


def first_slice(action):
    """One chunk, then the slice's time is up (as the task's slice ends): still running."""
    run = services.run_segment_action(action_id=action.pk, seconds=0)
    assert (run.status, run.processed) == ("running", 2)
    return run


def banned():
    return sorted(Player.objects.filter(banned_until__isnull=False).values_list("pk", flat=True))


def demote(user, game):
    GameAccess.objects.filter(user=user, game=game).update(role=GameAccess.Role.ANALYST)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("loses", "why"),
    [
        (demote, "oscar is analyst in Alpha, not owner or operator"),
        (lambda user, game: GameAccess.objects.filter(user=user).delete(), "oscar has no role"),
        (
            lambda user, game: type(user).objects.filter(pk=user.pk).update(is_active=False),
            "oscar's account was deactivated",
        ),
        (
            lambda user, game: type(user).objects.filter(pk=user.pk).update(is_staff=False),
            "oscar is no longer staff",
        ),
        (lambda user, game: user.delete(), "oscar's account was deleted"),
    ],
    ids=["demoted", "role_removed", "deactivated", "not_staff", "deleted"],
)
def test_a_run_whose_submitter_lost_the_role_between_slices_stops(
    operator, game, small_chunks, loses, why
):
    everyone = players(game)
    action = submit_ban(game, operator)
    first_slice(action)

    loses(operator, game)
    run = services.run_segment_action(action_id=action.pk)

    assert (run.status, run.failure, run.failure_transient) == ("failed", LOST_AUTHORITY, False)
    assert (run.processed, run.changed) == (2, 2)
    assert banned() == [everyone[0].pk, everyone[1].pk]  # the later slice banned nobody
    stop = AuditLogEntry.objects.get(action="segment.stop")
    assert (stop.actor_name, stop.target_id) == ("system", str(action.pk))
    assert why in stop.reason and "Stopped after 2 of 4 player(s)" in stop.reason
    assert stop.after == {"status": "failed", "failure": LOST_AUTHORITY}
    # Not an outage: the sweep does not queue it again by itself, and running it again (a
    # slice queued before the stop) stops again at once, changing nobody.
    assert services.resume_stopped_segment_actions() == []
    again = services.run_segment_action(action_id=action.pk)
    assert (again.status, again.processed) == ("failed", 2)
    assert banned() == [everyone[0].pk, everyone[1].pk]


@pytest.mark.django_db
def test_a_submitter_who_lost_the_role_before_the_first_chunk_changes_nobody(operator, game):
    players(game)
    action = submit_ban(game, operator)
    demote(operator, game)

    run = services.run_segment_action(action_id=action.pk)

    assert (run.status, run.failure, run.processed) == ("failed", LOST_AUTHORITY, 0)
    assert banned() == []


@pytest.mark.django_db
def test_a_superuser_without_a_role_keeps_running(game, small_chunks):
    boss = get_user_model().objects.create_superuser("boss", password="x")  # staff too
    players(game)
    action = submit_ban(game, boss)

    run = services.run_segment_action(action_id=action.pk)

    assert (run.status, run.changed) == ("done", 4)


@pytest.mark.django_db
def test_queue_again_by_an_operator_who_may_takes_the_run_over(operator, owner, game, small_chunks):
    everyone = players(game)
    action = submit_ban(game, operator)
    first_slice(action)
    demote(operator, game)
    services.run_segment_action(action_id=action.pk)  # stops

    services.queue_segment_action_again(action_id=action.pk, actor=owner)
    run = services.run_segment_action(action_id=action.pk)

    assert (run.status, run.processed, run.changed, run.run_by) == ("done", 4, 4, owner)
    assert run.created_by == operator  # who submitted it stays
    assert banned() == [p.pk for p in everyone]
    bans = AuditLogEntry.objects.filter(action="player.ban").order_by("pk")
    assert [entry.actor_name for entry in bans] == ["oscar", "oscar", "olivia", "olivia"]
    resume = AuditLogEntry.objects.get(action="segment.resume")
    assert (resume.before["acting_as"], resume.after["acting_as"]) == ("oscar", "olivia")
    assert "acts as olivia from now on" in resume.reason


@pytest.mark.django_db
def test_queue_again_of_a_run_whose_operator_still_may_keeps_its_operator(operator, owner, game):
    players(game)
    action = submit_ban(game, operator)

    services.queue_segment_action_again(action_id=action.pk, actor=owner)
    run = services.run_segment_action(action_id=action.pk)

    assert (run.status, run.run_by) == ("done", None)
    assert set(
        AuditLogEntry.objects.filter(action="player.ban").values_list("actor_name", flat=True)
    ) == {"oscar"}
    assert "acting_as" not in AuditLogEntry.objects.get(action="segment.resume").after


def test_the_run_page_can_queue_again_and_take_over(operator, owner, owner_client, game):
    players(game)
    action = submit_ban(game, operator)
    demote(operator, game)
    services.run_segment_action(action_id=action.pk)  # stops before its first chunk

    stopped_page = owner_client.get(f"/panel/games/{game.pk}/segment/runs/{action.pk}/")
    assert "may no longer change this game" in stopped_page.content.decode()
    assert "after its retries" not in stopped_page.content.decode()

    response = owner_client.post(f"/panel/games/{game.pk}/segment/runs/{action.pk}/")

    assert response.status_code == 302
    action.refresh_from_db()  # the task ran eagerly, as the owner
    assert (action.status, action.changed, action.run_by) == ("done", 4, owner)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_role_taken_away_while_a_chunk_runs_waits_for_it_and_the_next_chunk_stops(
    operator, game, small_chunks, monkeypatch
):
    everyone = players(game)
    action = submit_ban(game, operator)
    change_of, demoted = services._change_of, []

    def demoted_while_the_first_chunk_runs(action):
        # The chunk has checked the operator's role (FOR SHARE): the demotion, on its own
        # connection, waits for the chunk to commit, so the chunk does not run on a role
        # already taken away, and the next chunk sees it.
        if not demoted:
            demoted.append(in_thread(lambda: demote(operator, game)))
            wait_until_a_statement_waits_for_a_lock()
        return change_of(action)

    monkeypatch.setattr(services, "_change_of", demoted_while_the_first_chunk_runs)

    run = services.run_segment_action(action_id=action.pk)
    demoted[0].result(timeout=10)

    assert (run.status, run.failure, run.processed) == ("failed", LOST_AUTHORITY, 2)
    assert banned() == [everyone[0].pk, everyone[1].pk]
    assert GameAccess.objects.get(user=operator, game=game).role == GameAccess.Role.ANALYST


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_deactivation_while_a_chunk_runs_waits_for_it(operator, game, small_chunks, monkeypatch):
    players(game)
    action = submit_ban(game, operator)
    change_of, deactivated = services._change_of, []

    def deactivated_while_the_first_chunk_runs(action):
        if not deactivated:
            deactivated.append(
                in_thread(
                    lambda: type(operator).objects.filter(pk=operator.pk).update(is_active=False)
                )
            )
            wait_until_a_statement_waits_for_a_lock()
        return change_of(action)

    monkeypatch.setattr(services, "_change_of", deactivated_while_the_first_chunk_runs)

    run = services.run_segment_action(action_id=action.pk)
    deactivated[0].result(timeout=10)

    assert (run.status, run.processed, run.changed) == ("failed", 2, 2)
    assert "deactivated" in AuditLogEntry.objects.get(action="segment.stop").reason
    assert SegmentAction.objects.get(pk=action.pk).failure == LOST_AUTHORITY


@pytest.mark.django_db
def test_an_action_submitted_by_code_for_a_user_without_a_role_is_not_held_to_one(game):
    """The panel lets only an operator who may submit; code (a shell, a script) may name any
    user: that action was never held to a role, and runs as before."""
    script = get_user_model().objects.create_user("script")
    players(game)
    action = submit_ban(game, script)

    run = services.run_segment_action(action_id=action.pk)

    assert (action.checks_operator, run.status, run.changed) == (False, "done", 4)
