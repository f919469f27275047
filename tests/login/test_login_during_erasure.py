"""A login racing the erasure of the player it finds: it makes a new player, and writes nothing
onto the tombstone (docs/guide/privacy.md: nothing links the erased account to the platform
account that logs in again)."""

from __future__ import annotations

import pytest

from apps.accounts.models import PlatformIdentity, Player
from apps.login.services.login import log_in
from tests.conftest import while_an_erasure_waits_to_commit

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEV_ALICE = {"user_id": "alice", "display_name": "Alice"}


def test_a_login_waiting_for_an_erasure_leaves_the_tombstone_as_erased(game, dev_platform):
    first = log_in(game=game, platform="dev", credentials=DEV_ALICE)
    erased_player = Player.objects.get(pk=first.player.pk)

    login = while_an_erasure_waits_to_commit(
        erased_player.pk, lambda: log_in(game=game, platform="dev", credentials=DEV_ALICE)
    )
    again = login.result(10)

    assert again.player.pk != erased_player.pk and again.created
    tombstone = Player.objects.get(pk=erased_player.pk)
    assert tombstone.erased_at is not None
    # The login before the erasure is the last one it holds; the racing login's stamp would
    # tie the tombstone to the platform account's next login by its time.
    assert tombstone.last_login_at == erased_player.last_login_at
    assert PlatformIdentity.objects.get(platform_user_id="alice").player_id == again.player.pk
