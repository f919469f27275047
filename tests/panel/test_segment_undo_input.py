"""The undo form of a segment ban's page reads its reason and key through a form: U+0000 in
either was stored as sent, and on PostgreSQL (which refuses the character) a 500. Refused now
with why, and nothing is undone."""

from __future__ import annotations

import pytest

from apps.accounts.models import Player
from apps.panel import services
from apps.panel.models import SegmentAction

pytestmark = pytest.mark.django_db


@pytest.fixture
def ban_run(game, operator):
    Player.objects.create(game=game, display_name="bot")
    action, _ = services.submit_segment_action(
        game=game, actor=operator, idempotency_key="ban", kind="ban", filters={}, reason="bots"
    )
    return services.run_segment_action(action_id=action.pk)


@pytest.mark.parametrize(
    "body",
    [
        {"reason": "false\x00alarm"},
        {"reason": "false alarm", "idempotency_key": "undo\x00"},
        {"reason": "x" * 301},
        {"reason": "false alarm", "idempotency_key": "k" * 65},
    ],
)
def test_an_undo_the_form_refuses_changes_nothing_and_says_why(
    operator_client, game, ban_run, body
):
    url = f"/panel/games/{game.pk}/segment/runs/{ban_run.pk}/"

    response = operator_client.post(url, {"undo": "1", **body}, follow=True)

    assert response.status_code == 200
    assert "Nothing changed" in response.content.decode()
    assert not SegmentAction.objects.filter(undoes=ban_run).exists()
    assert Player.objects.get().is_banned


def test_a_valid_undo_still_lifts_the_runs_bans(operator_client, game, ban_run):
    url = f"/panel/games/{game.pk}/segment/runs/{ban_run.pk}/"

    operator_client.post(url, {"undo": "1", "reason": "  false alarm  "})

    undo = SegmentAction.objects.get(undoes=ban_run)
    assert (undo.reason, undo.idempotency_key) == ("false alarm", f"undo-{ban_run.pk}")
    assert not Player.objects.get().is_banned
