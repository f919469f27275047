from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.events.models import Event, EventReward, EventRewardClaim
from tests.battlepass.admin_forms import form_as_shown, row_of


@pytest.fixture
def operator(game):
    user = get_user_model().objects.create_user(username="alice", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    return user


@pytest.fixture
def analyst(game):
    user = get_user_model().objects.create_user(username="charlie", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.ANALYST)
    return user


@pytest.fixture
def calendar(game, other_game):
    now = timezone.now()

    def make(name, start_days, end_days, of=game):
        return Event.objects.create(
            game=of,
            name=name,
            starts_at=now + timedelta(days=start_days),
            ends_at=now + timedelta(days=end_days),
        )

    return {
        "later": make("Later", 5, 9),
        "running": make("Running", -1, 3),
        "ended": make("Ended", -9, -2),
        "theirs": make("Theirs", -1, 3, of=other_game),
    }


@pytest.mark.django_db
def test_operator_sees_own_games_events_in_calendar_order(client, operator, calendar):
    client.force_login(operator)

    response = client.get("/admin/events/event/")

    assert response.status_code == 200
    assert [e.name for e in response.context["cl"].result_list] == ["Ended", "Running", "Later"]


@pytest.mark.django_db
def test_running_now_filter_lists_only_running_events(client, operator, calendar):
    client.force_login(operator)

    response = client.get("/admin/events/event/", {"schedule": "running"})

    assert [e.name for e in response.context["cl"].result_list] == ["Running"]


@pytest.mark.django_db
def test_event_page_has_rewards_inline_and_other_games_events_stay_hidden(
    client, operator, calendar
):
    client.force_login(operator)

    own = client.get(f"/admin/events/event/{calendar['running'].pk}/change/")
    theirs = client.get(f"/admin/events/event/{calendar['theirs'].pk}/change/")

    assert own.status_code == 200
    assert "rewards-TOTAL_FORMS" in own.content.decode()
    assert theirs.status_code == 302
    assert "Theirs" not in theirs.content.decode()


@pytest.mark.django_db
def test_operator_adds_an_event_with_a_reward(client, operator, game, economy):
    client.force_login(operator)
    now = timezone.now()

    response = client.post(
        "/admin/events/event/add/",
        {
            "game": game.pk,
            "name": "Weekend",
            "description": "",
            "starts_at_0": now.strftime("%Y-%m-%d"),
            "starts_at_1": "00:00:00",
            "ends_at_0": (now + timedelta(days=2)).strftime("%Y-%m-%d"),
            "ends_at_1": "00:00:00",
            "recurrence": "none",
            "rewards-TOTAL_FORMS": "1",
            "rewards-INITIAL_FORMS": "0",
            "rewards-0-position": "1",
            "rewards-0-name": "Win 2",
            "rewards-0-requirement": "matches_won",
            "rewards-0-stat_key": "",
            "rewards-0-target": "2",
            "rewards-0-contents": '[{"currency": "gold", "quantity": 50}]',
            "rewards-0-battlepass_xp": "0",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    event = Event.objects.get(name="Weekend")
    assert event.rewards.get().contents == [{"currency": "gold", "quantity": 50}]


@pytest.mark.django_db
def test_analyst_cannot_change_an_event(client, analyst, calendar):
    client.force_login(analyst)
    event = calendar["running"]

    page = client.get(f"/admin/events/event/{event.pk}/change/")
    response = client.post(f"/admin/events/event/{event.pk}/delete/", {"post": "yes"})

    assert page.status_code == 200
    assert response.status_code == 403
    assert Event.objects.filter(pk=event.pk).exists()


@pytest.mark.django_db
def test_the_admin_refuses_to_change_what_a_claimed_reward_asks_or_grants(
    client, operator, player, make_reward
):
    reward = make_reward(EventReward.Requirement.MATCHES_WON, target=3)
    EventRewardClaim.objects.create(player=player, reward=reward)
    client.force_login(operator)
    url = f"/admin/events/event/{reward.event_id}/change/"
    data = form_as_shown(client, url)
    row = row_of(data, "rewards", reward.pk)
    data[f"{row}-target"] = "1"
    data[f"{row}-contents"] = '[{"currency": "gold", "quantity": 5000}]'

    response = client.post(url, data)

    assert response.status_code == 200  # the form again, with the refusal
    assert "Players have claimed this reward" in response.content.decode()
    reward.refresh_from_db()
    assert (reward.target, reward.contents) == (3, [{"currency": "gold", "quantity": 100}])
    # Its name and place in the list are not what was claimed: they still change.
    data = form_as_shown(client, url)
    data[f"{row}-name"] = "Win three"
    assert client.post(url, data).status_code == 302
    assert EventReward.objects.get(pk=reward.pk).name == "Win three"
