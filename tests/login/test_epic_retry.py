"""An Epic client retrying a login whose answer was lost presents the same cached ID token."""

import uuid
from types import SimpleNamespace

import pytest
import responses

from apps.accounts.models import AuthSession, PlatformIdentity, Player
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import base
from tests.accounts.conftest import LOGIN, assert_problem
from tests.platforms.helpers import PLATFORM_KEY, claims, jwks, sign

pytestmark = pytest.mark.django_db

EPIC = "https://epic.test"
CONFIG = {
    "client_id": "xyza7891client",
    "product_id": "prod-1",
    "sandbox_id": "sandbox-1",
    "deployment_id": "deploy-1",
}


@pytest.fixture
def epic(game, settings):
    settings.EPIC_API_BASE_URL = EPIC
    PlatformCredential.objects.create(game=game, platform="epic", config=CONFIG)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.get(f"{EPIC}/auth/v1/oauth/jwks", json=jwks(("key-1", PLATFORM_KEY)))
        yield mock


@pytest.fixture
def clock(monkeypatch):
    now = [2_000_000.0]
    monkeypatch.setattr(base, "time", SimpleNamespace(time=lambda: now[0]))
    return now


def epic_token():
    return sign(
        claims(
            iss=f"{EPIC}/auth/v1/oauth",
            aud=CONFIG["client_id"],
            sub="0002puid",
            pfpid="prod-1",
            pfsid="sandbox-1",
            pfdid="deploy-1",
            act={"eat": "steam", "pltfm": "other"},
            jti=uuid.uuid4().hex,  # a token no earlier run left a mark for in the shared cache
        )
    )


def post_login(api_client, token):
    body = {"platform": "epic", "credentials": {"id_token": token}}
    return api_client.post(LOGIN, body, HTTP_X_GAME_KEY="alpha-client-key")


def test_the_same_token_within_the_window_is_a_fresh_pair_for_the_same_player(
    api_client, epic, clock
):
    token = epic_token()
    first = post_login(api_client, token)
    assert first.status_code == 200

    clock[0] += 30
    retry = post_login(api_client, token)

    assert retry.status_code == 200
    assert retry.json()["player"]["id"] == first.json()["player"]["id"]
    assert retry.json()["access_token"] != first.json()["access_token"]
    assert retry.json()["refresh_token"] != first.json()["refresh_token"]
    assert Player.objects.count() == 1 and PlatformIdentity.objects.count() == 1
    assert AuthSession.objects.count() == 2

    clock[0] += 31  # 61 s after the first use
    assert_problem(post_login(api_client, token), 401, "invalid_credentials")
    assert AuthSession.objects.count() == 2
