"""A shop belongs to one game: no operator, offer or category crosses into another."""

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.shop.models import Category
from apps.shop.selectors import shop_for_player
from apps.shop.validation import validate_offer
from tests.shop.helpers import make_economy, make_offer


@pytest.fixture
def alice(game, other_game):
    """Operator of the first game, only an analyst of the second."""
    user = get_user_model().objects.create_user("alice-op", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    set_game_access(user=user, game=other_game, role=GameAccess.Role.ANALYST)
    return user


def test_list_editable_save_cannot_change_a_game_the_user_only_reads(client, alice, other_game):
    theirs = Category.objects.create(game=other_game, name="Featured", position=1, active=True)
    client.force_login(alice)

    response = client.post(
        "/admin/shop/category/",
        {
            "form-TOTAL_FORMS": "1",
            "form-INITIAL_FORMS": "1",
            "form-0-id": str(theirs.pk),
            "form-0-position": "99",
            "_save": "Save",
        },
    )

    assert response.status_code == 403
    theirs.refresh_from_db()
    assert (theirs.position, theirs.active) == (1, True)


def test_offer_in_another_games_category_is_refused(game, other_game):
    make_economy(game)
    theirs = Category.objects.create(game=other_game, name="Featured")
    offer = make_offer(game)
    offer.category = theirs

    assert "category" in validate_offer(offer)


def test_shop_never_lists_another_games_offer(game, other_game, other_player):
    make_economy(game)
    theirs = Category.objects.create(game=other_game, name="Featured")
    make_offer(game, category=theirs)

    shop = shop_for_player(player=other_player)

    assert all(not category["offers"] for category in shop)


def test_server_keys_are_revoked_never_deleted(admin_client, server_key, game):
    from apps.accounts.models import ServerKey

    key = ServerKey.objects.get(game=game)
    response = admin_client.post(f"/admin/accounts/serverkey/{key.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert ServerKey.objects.filter(pk=key.pk).exists()
