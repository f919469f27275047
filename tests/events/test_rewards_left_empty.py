"""A reward whose contents box an operator leaves empty (or types null, {} or "" in) grants no
lines: the empty JSON values skip the field's validators (Django runs none on an empty value),
so the box left empty or null was a 500 (the column is NOT NULL) and {} or "" was stored as
such, not as a list of lines."""

from __future__ import annotations

import pytest

from apps.events.models import EventReward
from tests.battlepass.admin_forms import form_as_shown
from tests.events.test_reward_integrity import operator_client, reward  # noqa: F401

pytestmark = pytest.mark.django_db

EMPTY_TYPED = ["", "null", "{}", '""', "[]"]


@pytest.mark.parametrize("typed", EMPTY_TYPED)
def test_a_reward_whose_contents_are_left_empty_grants_no_lines(
    operator_client,  # noqa: F811
    player_client,
    event,
    season,
    typed,
):
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(operator_client, url)
    data.update(
        {
            "rewards-TOTAL_FORMS": "1",
            "rewards-0-position": "1",
            "rewards-0-name": "Season XP",
            "rewards-0-requirement": "none",
            "rewards-0-target": "1",
            "rewards-0-contents": typed,
            "rewards-0-battlepass_xp": "5",
        }
    )

    response = operator_client.post(url, data)

    assert response.status_code == 302
    saved = EventReward.objects.get()
    assert saved.contents == []
    claimed = player_client.post(
        "/api/v1/events/claim-reward",
        {"event_id": event.pk, "reward_id": saved.pk},
        format="json",
    )
    assert claimed.status_code == 201
    assert claimed.json()["granted"] == {"contents": [], "battlepass_xp": 5}


@pytest.mark.parametrize("typed", EMPTY_TYPED)
def test_a_reward_left_empty_without_season_xp_is_refused(operator_client, event, typed):  # noqa: F811
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(operator_client, url)
    data.update(
        {
            "rewards-TOTAL_FORMS": "1",
            "rewards-0-position": "1",
            "rewards-0-name": "Nothing",
            "rewards-0-requirement": "none",
            "rewards-0-target": "1",
            "rewards-0-contents": typed,
            "rewards-0-battlepass_xp": "0",
        }
    )

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert "A reward grants contents, battle-pass XP, or both." in response.content.decode()
    assert not EventReward.objects.exists()


@pytest.mark.parametrize("value", [None, "", {}, ()])
def test_empty_contents_are_cleaned_to_no_lines(event, value):
    made = reward(event, contents=value, battlepass_xp=5)

    made.full_clean()

    assert made.contents == []
