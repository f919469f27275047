"""A tier claim may name the season the client read its progress in (`season_id`): a claim that
reaches the server once the next season runs is refused, not granted in a season the player
never saw."""

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.battlepass.models import Season, Tier, TierClaim
from apps.battlepass.services import add_season_xp
from apps.inventory.models import LedgerEntry

PROGRESS = "/api/v1/battlepass/progress"
CLAIM = "/api/v1/battlepass/claim"


@pytest.fixture
def next_season(game, season):
    """A season that starts when `season` ends, with a tier 1 of its own."""
    starts = season.ends_at
    following = Season.objects.create(
        game=game, name="S2", starts_at=starts, ends_at=starts + timedelta(days=30)
    )
    Tier.objects.create(
        season=following,
        level=1,
        xp_required=0,
        free_reward=[{"currency": "gold", "quantity": 999}],
    )
    return following


def move_the_clock_to(monkeypatch, at):
    monkeypatch.setattr(timezone, "now", lambda: at)


@pytest.mark.django_db
def test_a_claim_naming_the_running_season_is_granted(player_client, player, season):
    season_id = player_client.get(PROGRESS).json()["season"]["id"]

    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": season_id}, format="json"
    )

    assert response.status_code == 201, response.content
    assert response.json()["season_id"] == season.pk
    assert TierClaim.objects.get(player=player).tier.season_id == season.pk


@pytest.mark.django_db
def test_a_claim_naming_a_season_that_ended_is_409_and_claims_nothing_in_the_next(
    player_client, game, player, season, next_season, monkeypatch
):
    read = player_client.get(PROGRESS).json()["season"]["id"]
    move_the_clock_to(monkeypatch, next_season.starts_at)  # the season ended meanwhile

    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": read}, format="json"
    )

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "season_not_running"
    assert (body["season_id"], body["running_season_id"]) == (season.pk, next_season.pk)
    assert not TierClaim.objects.exists()
    assert not LedgerEntry.objects.filter(player=player).exists()


@pytest.mark.django_db
def test_a_claim_without_a_season_is_judged_in_the_running_one_as_before(
    player_client, game, player, season, next_season, monkeypatch
):
    move_the_clock_to(monkeypatch, next_season.starts_at)

    response = player_client.post(CLAIM, {"tier": 1, "track": "free"}, format="json")

    assert response.status_code == 201
    assert response.json()["season_id"] == next_season.pk


@pytest.mark.django_db
def test_a_retry_naming_its_season_after_it_ended_is_already_claimed(
    player_client, game, player, season, next_season, monkeypatch
):
    first = {"tier": 1, "track": "free", "season_id": season.pk}
    assert player_client.post(CLAIM, first, format="json").status_code == 201
    move_the_clock_to(monkeypatch, next_season.starts_at)

    response = player_client.post(CLAIM, first, format="json")

    assert response.status_code == 409
    assert response.json()["code"] == "already_claimed"
    assert TierClaim.objects.filter(player=player).count() == 1  # not claimed in the next season


@pytest.mark.django_db
def test_a_claim_naming_a_season_that_has_not_started_is_409(
    player_client, game, player, season, next_season
):
    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": next_season.pk}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "season_not_running"
    assert response.json()["running_season_id"] == season.pk
    assert not TierClaim.objects.exists()


@pytest.mark.django_db
def test_a_claim_naming_a_season_while_none_runs_is_409_season_not_running(
    player_client, game, player, season, monkeypatch
):
    move_the_clock_to(monkeypatch, season.ends_at)

    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": season.pk}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "season_not_running"
    assert response.json()["running_season_id"] is None


@pytest.mark.django_db
def test_a_claim_naming_another_games_season_is_404_and_says_nothing_of_it(
    player_client, other_game, player, season
):
    now = timezone.now()
    theirs = Season.objects.create(
        game=other_game, name="B1", starts_at=now - timedelta(1), ends_at=now + timedelta(1)
    )
    add_season_xp(game_id=season.game_id, xp_by_player={player.pk: 500})

    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": theirs.pk}, format="json"
    )

    assert response.status_code == 404
    assert response.json()["code"] == "season_not_found"
    assert "B1" not in response.content.decode()
    assert not TierClaim.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("season_id", ["1", 1.0, 0, -3, 2**63, True, None])
def test_a_season_id_that_is_not_a_positive_json_integer_is_400(player_client, season, season_id):
    response = player_client.post(
        CLAIM, {"tier": 1, "track": "free", "season_id": season_id}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert "season_id" in response.json()["errors"]
    assert not TierClaim.objects.exists()
