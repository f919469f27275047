"""Admin list filters and pickers name only the user's games and their objects (issue 14 item
9): alice operates games Alpha and Gamma, bob game Beta; neither learns the other's names.
(Django leaves out a filter with a single choice, hence alice's two games and two of each.)"""

import re

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import Game, GameAccess
from apps.accounts.services import set_game_access
from apps.inventory.models import Currency, ItemDefinition
from apps.shop.models import Category

B_NAMES = ["Beta", "beta-gems", "beta-secret-sword", "Beta VIP corner", "bob"]


@pytest.fixture
def make_operator(db):
    def make(username: str, game, role: str):
        user = get_user_model().objects.create_user(username=username, password="pw-long-enough-1")
        set_game_access(user=user, game=game, role=role)
        return user

    return make


@pytest.fixture
def alice(make_operator, game):
    alice = make_operator("alice", game, GameAccess.Role.OPERATOR)
    gamma = Game.objects.create(name="Gamma", slug="gamma", client_key="gamma-client-key")
    set_game_access(user=alice, game=gamma, role=GameAccess.Role.OPERATOR)
    return alice


@pytest.fixture
def bob(make_operator, other_game):
    return make_operator("bob", other_game, GameAccess.Role.OWNER)


@pytest.fixture
def olivia(make_operator, game):
    return make_operator("olivia", game, GameAccess.Role.OWNER)


@pytest.fixture
def catalogues(game, other_game, player, other_player):
    """Two of each for A, so the sidebar shows A's filters at all; one of each for B."""
    for code in ("gold", "gems"):
        Currency.objects.create(game=game, code=code, name=code)
    Currency.objects.create(game=other_game, code="beta-gems", name="Beta gems")
    for sku in ("sword", "shield"):
        ItemDefinition.objects.create(game=game, sku=sku, name=sku)
    ItemDefinition.objects.create(game=other_game, sku="beta-secret-sword", name="Secret")
    for name in ("Starter packs", "Weekly deals"):
        Category.objects.create(game=game, name=name)
    Category.objects.create(game=other_game, name="Beta VIP corner")


def sidebar(response) -> dict[str, set[str]]:
    """Each relation filter of the changelist: the names it offers."""
    return {
        spec.field_path: {str(name) for _, name in spec.lookup_choices}
        for spec in response.context["cl"].filter_specs
        if hasattr(spec, "field_path") and spec.field.is_relation
    }


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/admin/inventory/wallet/",
            {"currency__game": {"Alpha", "Gamma"}, "currency": {"gold", "gems"}},
        ),
        (
            "/admin/inventory/playeritem/",
            {"item__game": {"Alpha", "Gamma"}, "item": {"sword", "shield"}},
        ),
        (
            "/admin/shop/offer/",
            {"game": {"Alpha", "Gamma"}, "category": {"Starter packs", "Weekly deals"}},
        ),
        ("/admin/accounts/player/", {"game": {"Alpha", "Gamma"}}),
        ("/admin/accounts/gameaccess/", {"game": {"Alpha", "Gamma"}}),
        ("/admin/battlepass/tierclaim/", {"tier__season__game": {"Alpha", "Gamma"}}),
    ],
)
def test_filters_offer_only_the_users_games_and_their_objects(
    client, alice, bob, catalogues, url, expected
):
    client.force_login(alice)

    response = client.get(url)

    assert response.status_code == 200
    assert sidebar(response) == expected
    page = response.content.decode()
    assert not [name for name in B_NAMES if name in page]


def test_superuser_filters_still_offer_every_game(client, alice, bob, catalogues):
    root = get_user_model().objects.create_superuser(username="root", password="pw-long-enough-1")
    client.force_login(root)

    response = client.get("/admin/inventory/wallet/")

    assert sidebar(response) == {
        "currency__game": {"Alpha", "Beta", "Gamma"},
        "currency": {"gold", "gems", "beta-gems"},
    }


def test_offer_pickers_offer_only_the_users_games_and_categories(client, alice, catalogues):
    client.force_login(alice)

    response = client.get("/admin/shop/offer/add/")

    form = response.context["adminform"].form
    assert {str(g) for g in form.fields["game"].queryset} == {"Alpha", "Gamma"}
    assert {str(c) for c in form.fields["category"].queryset} == {"Starter packs", "Weekly deals"}


def test_game_access_form_lists_no_usernames(client, olivia, alice, bob):
    client.force_login(olivia)

    response = client.get("/admin/accounts/gameaccess/add/")

    assert response.status_code == 200
    page = response.content.decode()
    assert '<input type="text" name="username"' in page
    assert 'name="user"' not in page
    # As words: the page's random tokens (CSRF, CSP nonces) may hold the letters by chance.
    assert not re.search(r"\b(bob|alice)\b", page)


def test_game_access_takes_an_exact_username(client, olivia, bob, game):
    client.force_login(olivia)

    response = client.post(
        "/admin/accounts/gameaccess/add/",
        {"username": "bob", "game": game.pk, "role": GameAccess.Role.ANALYST},
    )

    assert response.status_code == 302
    assert GameAccess.objects.get(user=bob, game=game).role == GameAccess.Role.ANALYST


@pytest.mark.parametrize("username", ["Bob", "bo", "nobody"])
def test_game_access_refuses_a_username_that_is_not_exact(client, olivia, bob, game, username):
    client.force_login(olivia)

    response = client.post(
        "/admin/accounts/gameaccess/add/",
        {"username": username, "game": game.pk, "role": GameAccess.Role.ANALYST},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["username"] == [
        f"No active user is named “{username}” (usernames must match exactly)."
    ]
    assert not GameAccess.objects.filter(game=game).exclude(user=olivia).exists()


def test_game_access_refuses_a_second_role_in_the_same_game(client, olivia, alice, game):
    client.force_login(olivia)

    response = client.post(
        "/admin/accounts/gameaccess/add/",
        {"username": "alice", "game": game.pk, "role": GameAccess.Role.OWNER},
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert GameAccess.objects.get(user=alice, game=game).role == GameAccess.Role.OPERATOR


def test_game_access_change_form_shows_its_username(client, olivia, alice, game):
    client.force_login(olivia)
    access = GameAccess.objects.get(user=alice, game=game)

    response = client.post(
        f"/admin/accounts/gameaccess/{access.pk}/change/",
        {"username": "alice", "game": game.pk, "role": GameAccess.Role.ANALYST},
    )

    assert response.status_code == 302
    access.refresh_from_db()
    assert (access.user, access.role) == (alice, GameAccess.Role.ANALYST)
    page = client.get(f"/admin/accounts/gameaccess/{access.pk}/change/").content.decode()
    assert 'value="alice"' in page
