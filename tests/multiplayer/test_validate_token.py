"""multiplayer/validate-token = auth/validate + the public profile. The token layer is the auth
engineer's (apps.accounts.tokens.validate_access_token); here it is replaced by a stand-in that
answers like it, so these tests pin what this endpoint adds."""

from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.accounts import tokens
from apps.stats.services import add_xp

URL = "/api/v1/multiplayer/validate-token"


@dataclass
class FakeClaims:
    player_id: int
    game_id: int


@dataclass
class FakeCheck:
    valid: bool
    claims: FakeClaims | None = None
    reason: str = ""

    def as_dict(self) -> dict:
        if not self.valid:
            return {"valid": False, "reason": self.reason}
        return {
            "valid": True,
            "player_id": self.claims.player_id,
            "game_id": self.claims.game_id,
            "permissions": ["player"],
            "expires_at": "2030-01-01T00:00:00Z",
        }


@pytest.fixture
def token_for(monkeypatch):
    """token_for(player) -> a raw token the stand-in validates for the player's game only."""
    issued: dict[str, object] = {}

    def validate(raw_token: str, *, game_id: int) -> FakeCheck:
        player = issued.get(raw_token)
        if player is None:
            return FakeCheck(valid=False, reason="invalid_token")
        if player.game_id != game_id:
            return FakeCheck(valid=False, reason="wrong_game")
        return FakeCheck(valid=True, claims=FakeClaims(player.pk, player.game_id))

    monkeypatch.setattr(tokens, "validate_access_token", validate, raising=False)

    def token_for(player) -> str:
        raw = f"token-{player.pk}"
        issued[raw] = player
        return raw

    return token_for


@pytest.mark.django_db
def test_valid_token_answers_as_auth_validate_plus_the_public_profile(
    server_client, game, player, token_for
):
    add_xp(game_id=game.pk, xp_by_player={player.pk: 2500})

    response = server_client.post(URL, {"token": token_for(player)}, format="json")

    assert response.status_code == 200
    assert response.json() == {
        "valid": True,
        "player_id": player.pk,
        "game_id": game.pk,
        "permissions": ["player"],
        "expires_at": "2030-01-01T00:00:00Z",
        "player": {"display_name": "alice", "level": 3, "banned": False},
    }


@pytest.mark.django_db
def test_banned_flag_comes_from_the_player(server_client, player, token_for):
    player.banned_until = timezone.now() + timedelta(days=1)
    player.save()

    response = server_client.post(URL, {"token": token_for(player)}, format="json")

    assert response.json()["player"]["banned"] is True


@pytest.mark.django_db
def test_invalid_token_is_200_valid_false_without_a_profile(server_client, token_for):
    response = server_client.post(URL, {"token": "garbage"}, format="json")

    assert response.status_code == 200
    assert response.json() == {"valid": False, "reason": "invalid_token"}


@pytest.mark.django_db
def test_token_of_another_game_is_not_valid_here(server_client, other_player, token_for):
    response = server_client.post(URL, {"token": token_for(other_player)}, format="json")

    assert response.json() == {"valid": False, "reason": "wrong_game"}


@pytest.mark.django_db
def test_missing_token_is_400_validation_error(server_client, token_for):
    response = server_client.post(URL, {}, format="json")

    assert (response.status_code, response.json()["code"]) == (400, "validation_error")


@pytest.mark.django_db
def test_player_credential_on_validate_token_is_403_wrong_credential_kind(player_client, player):
    response = player_client.post(URL, {"token": "x"}, format="json")

    assert (response.status_code, response.json()["code"]) == (403, "wrong_credential_kind")
