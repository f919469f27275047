"""An XP rule's mode is held to the pattern a match result's mode has (the API's): a rule for
"Team Deathmatch" could never apply, so the admin refuses it with a message that says why."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from apps.multiplayer.models import Outcome, XpRule
from tests.accounts.admin_lists import signed_in_operator

ADD = "/admin/multiplayer/xprule/add/"

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("mode", ["Team Deathmatch", " duel", "-duel", "duel\n", "ctf/2", "é"])
def test_a_mode_no_match_can_have_is_refused(game, mode):
    rule = XpRule(game=game, mode=mode, outcome=Outcome.WIN, xp=10)

    with pytest.raises(ValidationError) as refused:
        rule.full_clean()

    assert list(refused.value.message_dict) == ["mode"]


@pytest.mark.parametrize("mode", ["", "duel", "team-deathmatch", "TDM_5v5", "ranked:eu.2"])
def test_a_mode_a_match_can_have_or_blank_is_taken(game, mode):
    rule = XpRule(game=game, mode=mode, outcome=Outcome.WIN, xp=10)

    rule.full_clean()  # raises ValidationError for a mode it refuses
    rule.save()

    assert XpRule.objects.get(game=game).mode == mode


def test_the_admin_refuses_a_mode_with_a_space_and_says_why(client, game):
    operator_client = signed_in_operator(client, game)
    body = {"game": game.pk, "mode": "Team Deathmatch", "outcome": "win", "xp": 200}

    refused = operator_client.post(ADD, body)

    assert refused.status_code == 200  # the form again, with the error
    assert "no spaces" in " ".join(refused.context["adminform"].form.errors["mode"])
    assert not XpRule.objects.exists()

    taken = operator_client.post(ADD, {**body, "mode": "team-deathmatch"})

    assert taken.status_code == 302, taken.content
    assert XpRule.objects.get().mode == "team-deathmatch"
