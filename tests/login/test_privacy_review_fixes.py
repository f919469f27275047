"""A link racing the account's erasure (docs/guide/privacy.md): the request passed the token
check, then waited on the platform while the erasure committed; it must not give the tombstone
a platform identity to log in with."""

from unittest import mock

import pytest

from apps.accounts.errors import AccountDeleted
from apps.accounts.models import PlatformIdentity, Player
from apps.accounts.services.privacy import erase_player
from apps.login.services.identities import _attach
from apps.platforms.models import PlatformCredential
from apps.platforms.verifiers import VerifiedIdentity
from tests.accounts.conftest import assert_problem, bearer

LINK = "/api/v1/auth/link"
STEAM = {"platform": "steam", "credentials": {"ticket": "14000000"}}

pytestmark = pytest.mark.django_db


def test_a_link_verified_while_the_player_was_erased_is_401_and_links_nothing(
    game, tokens, django_capture_on_commit_callbacks
):
    PlatformCredential.objects.create(game=game, platform="steam", config={"app_id": "480"})
    player = Player.objects.get(pk=tokens["player"]["id"])

    def erased_meanwhile(*args, **kwargs):
        # The token check is behind us; the erasure commits while the platform answers.
        erase_player(player=Player.objects.get(pk=player.pk), actor=None)
        return VerifiedIdentity("7656119", "Gabe", entitlement_checked=True)

    verifier = mock.Mock(required_config=())
    verifier.verify.side_effect = erased_meanwhile
    with (
        mock.patch("apps.login.services.login.get_verifier", return_value=verifier),
        django_capture_on_commit_callbacks(execute=True),
    ):
        response = bearer(tokens["access_token"]).post(LINK, STEAM, format="json")

    body = assert_problem(response, 401, "token_revoked")
    assert body["detail"] == "This account was deleted."
    assert body["account_deleted"] is True
    assert verifier.verify.called
    assert not PlatformIdentity.objects.filter(player_id=player.pk).exists()
    assert not PlatformIdentity.objects.filter(platform_user_id="7656119").exists()


def test_the_link_service_refuses_a_stale_player_erased_since(
    tokens, django_capture_on_commit_callbacks
):
    stale = Player.objects.get(pk=tokens["player"]["id"])  # as the token check loaded it
    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=Player.objects.get(pk=stale.pk), actor=None)

    with pytest.raises(AccountDeleted):
        _attach(stale, "steam", VerifiedIdentity("7656119", "Gabe", entitlement_checked=True))
    assert not PlatformIdentity.objects.filter(player_id=stale.pk).exists()
