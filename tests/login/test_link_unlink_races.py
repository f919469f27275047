"""Link and unlink meeting what changed the player after the token check passed."""

import pytest

from apps.accounts.errors import AccountDeleted
from apps.accounts.models import Player
from apps.accounts.services.privacy import erase_player
from apps.login.services.identities import unlink_identity

pytestmark = pytest.mark.django_db


def test_an_unlink_for_a_player_erased_since_the_token_check_says_the_account_is_deleted(
    tokens, django_capture_on_commit_callbacks
):
    """The erasure committed between the token check and the unlink's lock: the client is told
    its account is gone (401 token_revoked, account_deleted), as a link is, not that its
    platform was never linked (404 identity_not_linked)."""
    stale = Player.objects.get(pk=tokens["player"]["id"])  # as the token check loaded it
    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=Player.objects.get(pk=stale.pk), actor=None)

    with pytest.raises(AccountDeleted):
        unlink_identity(player=stale, platform="dev")
