"""Erasure follow-ups: what the leaderboards keep (and what their audit entries copy), who the
audit log names for a player's own erasure, and the export limit as a setting
(docs/guide/privacy.md)."""

from __future__ import annotations

import json

import pytest
from django.urls import reverse

from apps.accounts.services.privacy import ERASE_ACTION, erase_player
from apps.audit.models import AuditLogEntry
from apps.leaderboards.models import Board, Entry, Period, Submission
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.periods import close_period
from apps.leaderboards.services.submit import submit_score
from tests.accounts.conftest import assert_problem
from tests.accounts.test_privacy import (  # noqa: F401 - fixtures
    EXPORT,
    alice,
    delete_account,
    operator,
    player_of,
)
from tests.panel.conftest import client_for, make_user


@pytest.fixture
def scored(tokens, game) -> Board:
    """alice's scores with metadata: one in a finished period, two in the open one (her
    client's and a game server's)."""
    player = player_of(tokens)
    board = Board.objects.create(game=game, slug="high", name="High", allow_client_submissions=True)
    submit_score(
        board=board,
        player_id=player.pk,
        score=10,
        submission_id="c1",
        metadata={"name": "Alice Liddell"},
        from_client=True,
    )
    close_period(period_id=Period.objects.get(board=board, state=Period.State.OPEN).pk)
    submit_score(
        board=board,
        player_id=player.pk,
        score=20,
        submission_id="c2",
        metadata={"device": "device-5551234"},
        from_client=True,
    )
    submit_score(
        board=board,
        player_id=player.pk,
        score=30,
        submission_id="match:m1:1",
        metadata={"device": "device-5551234"},
    )
    return board


def test_erasure_leaves_no_leaderboard_metadata_nor_client_submissions(
    alice,  # noqa: F811 - fixture
    tokens,
    scored,
    django_capture_on_commit_callbacks,
):
    player = player_of(tokens)

    assert delete_account(alice, django_capture_on_commit_callbacks).status_code == 204

    # The finished period's standing stays, without its metadata; the open period's goes.
    (kept,) = Entry.objects.filter(player=player)
    assert kept.period.state == Period.State.CLOSED
    assert (kept.score, kept.metadata) == (10, {})
    # Her client's submissions go; the game server's stays (its retry stays a retry).
    assert list(
        Submission.objects.filter(player=player).values_list("submission_id", flat=True)
    ) == ["match:m1:1"]
    # The audit entry of the removal keeps the score, not the metadata.
    (removal,) = AuditLogEntry.objects.filter(action="leaderboard.remove_entry")
    assert removal.reason == "player erased"
    assert removal.before["score"] == 30 and "metadata" not in removal.before
    logged = json.dumps(list(AuditLogEntry.objects.values("before", "after", "target_repr")))
    assert "device-5551234" not in logged and "Alice Liddell" not in logged


def test_an_operators_removal_still_records_the_metadata(tokens, scored, operator):  # noqa: F811
    entry = Entry.objects.get(player=player_of(tokens), period__state=Period.State.OPEN)

    assert remove_entry(entry=entry, actor=operator, reason="cheating") is True

    (removal,) = AuditLogEntry.objects.filter(action="leaderboard.remove_entry")
    assert removal.before["metadata"] == {"device": "device-5551234"}
    assert removal.actor == operator


def test_a_players_own_erasure_reads_as_theirs_in_the_log(
    alice,  # noqa: F811 - fixture
    tokens,
    game,
    admin_client,
    django_capture_on_commit_callbacks,
):
    player = player_of(tokens)
    label = f"player #{player.pk} (self-service)"

    assert delete_account(alice, django_capture_on_commit_callbacks).status_code == 204

    (entry,) = AuditLogEntry.objects.filter(action=ERASE_ACTION)
    assert entry.actor is None  # no operator, and no User made up
    assert entry.actor_name == label and entry.after == {"erased_by": "player"}
    owner = make_user("olivia", game, "owner")
    panel = client_for(owner).get(reverse("panel:player", args=[game.pk, player.pk]))
    assert label in panel.content.decode()
    listed = admin_client.get("/admin/audit/auditlogentry/", {"action__exact": ERASE_ACTION})
    assert label in listed.content.decode()
    assert admin_client.get("/admin/audit/auditlogentry/", {"q": label}).status_code == 200


def test_an_operators_erasure_still_names_the_operator(tokens, operator):  # noqa: F811
    assert erase_player(player=player_of(tokens), actor=operator) is True

    (entry,) = AuditLogEntry.objects.filter(action=ERASE_ACTION)
    assert entry.actor == operator and entry.actor_name == operator.get_username()


def test_the_export_limit_is_a_setting(alice, settings):  # noqa: F811 - fixture
    settings.DATA_EXPORTS_PER_HOUR = 2

    assert [alice.get(EXPORT).status_code for _ in range(2)] == [200, 200]
    refused = alice.get(EXPORT)

    assert_problem(refused, 429, "rate_limited")
    assert refused["RateLimit-Limit"] == "2"


def test_the_export_limit_defaults_to_five():
    from django.conf import settings

    assert settings.DATA_EXPORTS_PER_HOUR == 5
