"""What an operator cannot break by editing events: a reward names only currencies, items and
stats the game defines; a claimed reward is never deleted (players could claim it again); a
clone starts inactive. And a claim's edges: ids past BIGINT, and the lock order it shares with
a premium purchase."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import ProtectedError
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.events.authoring import clone_event
from apps.events.models import Event, EventReward, EventRewardClaim
from apps.inventory.models import Currency
from tests.battlepass.admin_forms import form_as_shown
from tests.conftest import wallet_lock_at
from tests.events.conftest import Requirement
from tests.events.test_claim_reward import URL, claim

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(client, game):
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client.force_login(user)
    return client


def reward(event, **fields) -> EventReward:
    values = {"name": "Gift", "contents": [{"currency": "gold", "quantity": 5}]}
    return EventReward(event=event, **(values | fields))


def test_a_reward_naming_what_the_game_does_not_define_is_refused(event, other_game):
    Currency.objects.create(game=other_game, code="rubies", name="Rubies")

    for contents, message in [
        ([{"currency": "rubies", "quantity": 1}], "This game has no currency rubies."),
        ([{"sku": "laser", "quantity": 1}], "This game has no item laser."),
    ]:
        with pytest.raises(ValidationError) as refused:
            reward(event, contents=contents).full_clean()
        assert refused.value.message_dict["contents"] == [message]
    reward(event, contents=[{"sku": "potion", "quantity": 1}]).full_clean()


def test_a_stat_reward_names_a_stat_the_game_declares(event, lap_and_kills):
    unknown = reward(event, requirement=Requirement.STAT, stat_key="headshots", target=3)

    with pytest.raises(ValidationError) as refused:
        unknown.full_clean()

    assert "headshots" in refused.value.message_dict["stat_key"][0]
    reward(event, requirement=Requirement.STAT, stat_key="kills", target=3).full_clean()


def test_the_event_form_refuses_a_reward_of_unknown_codes(operator_client, event):
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(operator_client, url)
    data.update(
        {
            "rewards-TOTAL_FORMS": "1",
            "rewards-0-position": "1",
            "rewards-0-name": "Gift",
            "rewards-0-requirement": "none",
            "rewards-0-target": "1",
            "rewards-0-contents": '[{"currency": "rubies", "quantity": 1}]',
            "rewards-0-battlepass_xp": "0",
        }
    )

    response = operator_client.post(url, data)

    assert response.status_code == 200
    assert "This game has no currency rubies." in response.content.decode()
    assert not event.rewards.exists()


def test_a_claimed_reward_is_not_deleted(player, make_reward):
    claimed = make_reward(Requirement.NONE)
    EventRewardClaim.objects.create(player=player, reward=claimed)

    with pytest.raises(ProtectedError):
        claimed.delete()
    with pytest.raises(ProtectedError):
        claimed.event.delete()


def test_deleting_a_claimed_reward_in_the_event_form_is_a_form_error(
    operator_client, player, event, make_reward
):
    claimed = make_reward(Requirement.NONE)
    EventRewardClaim.objects.create(player=player, reward=claimed)
    url = f"/admin/events/event/{event.pk}/change/"
    data = form_as_shown(operator_client, url)
    data["rewards-0-DELETE"] = "on"

    response = operator_client.post(url, data)
    page = operator_client.get(f"/admin/events/event/{event.pk}/delete/")

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in (
        response.content.decode()
    )
    assert page.status_code == 200
    assert "Cannot delete event" in page.content.decode()
    assert EventReward.objects.filter(pk=claimed.pk).exists()


def test_a_clone_starts_inactive_unseen_and_unclaimable(player_client, event, make_reward):
    make_reward(Requirement.NONE)

    copy = clone_event(event=event, actor=None)
    listed = player_client.get("/api/v1/events/active").json()
    response = claim(player_client, copy.rewards.get())

    assert copy.active is False
    assert [e["id"] for e in listed] == [event.pk]
    assert (response.status_code, response.json()["code"]) == (404, "reward_not_found")
    Event.objects.filter(pk=copy.pk).update(active=True)
    assert claim(player_client, copy.rewards.get()).status_code == 201


@pytest.mark.parametrize("field", ["event_id", "reward_id"])
def test_an_id_past_bigint_is_400_validation_error(player_client, field):
    body = {"event_id": 1, "reward_id": 1} | {field: 2**70}

    response = player_client.post(URL, body, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


def test_a_claim_takes_the_season_pass_before_the_wallets(
    player_client, player, season, make_reward
):
    """The order a premium purchase takes them in (shop.services.limits.reserve, then the
    grant), so a claim and a purchase of one player never wait on each other in a cycle."""
    granted = make_reward(Requirement.NONE, battlepass_xp=50)

    with CaptureQueriesContext(connection) as captured:
        assert claim(player_client, granted).status_code == 201

    sent = [q["sql"] for q in captured.captured_queries]
    season_pass = next(n for n, sql in enumerate(sent) if "battlepass_seasonpass" in sql)
    wallets = next(n for n, sql in enumerate(sent) if wallet_lock_at(sql) > -1)
    assert season_pass < wallets
    assert player.season_passes.get(season=season).xp == 50
