"""Operators see only their games; analysts read and never change."""

import pytest
from django.apps import apps
from django.contrib import admin

from apps.accounts.admin_scoping import GameScopedAdmin
from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access


@pytest.fixture
def alice(make_operator, game):
    return make_operator("alice", game, GameAccess.Role.OPERATOR)


@pytest.fixture
def charlie(make_operator, game):
    return make_operator("charlie", game, GameAccess.Role.ANALYST)


def test_operator_of_game_a_lists_only_game_a_players(client, alice, player, other_player):
    client.force_login(alice)

    response = client.get("/admin/accounts/player/")

    assert response.status_code == 200
    shown = {p.pk for p in response.context["cl"].result_list}
    assert shown == {player.pk}


def test_operator_of_game_a_cannot_open_game_b_player_by_url(client, alice, other_player):
    client.force_login(alice)

    response = client.get(f"/admin/accounts/player/{other_player.pk}/change/")

    assert response.status_code == 302  # the admin's "does not exist" redirect, no data shown
    assert other_player.display_name not in response.content.decode()


def test_operator_can_change_own_game_player(client, alice, player):
    client.force_login(alice)

    response = client.post(
        f"/admin/accounts/player/{player.pk}/change/",
        {
            "display_name": "alice-renamed",
            "ban_reason": "",
            "identities-TOTAL_FORMS": "0",
            "identities-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    player.refresh_from_db()
    assert player.display_name == "alice-renamed"


def test_analyst_sees_but_cannot_change(client, charlie, player):
    client.force_login(charlie)

    assert client.get(f"/admin/accounts/player/{player.pk}/change/").status_code == 200
    response = client.post(
        f"/admin/accounts/player/{player.pk}/change/",
        {"display_name": "hacked", "identities-TOTAL_FORMS": "0", "identities-INITIAL_FORMS": "0"},
    )

    assert response.status_code == 403
    assert Player.objects.get(pk=player.pk).display_name == "alice"


def test_operator_sees_only_own_games_in_game_list(client, alice, game, other_game):
    client.force_login(alice)

    response = client.get("/admin/accounts/game/")

    assert [g.pk for g in response.context["cl"].result_list] == [game.pk]


def test_a_rows_game_is_fixed_once_it_exists(client, make_operator, game, other_game):
    from apps.inventory.models import Currency

    both = make_operator("bea", game, GameAccess.Role.OPERATOR)
    set_game_access(user=both, game=other_game, role=GameAccess.Role.OPERATOR)
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    client.force_login(both)
    url = f"/admin/inventory/currency/{gold.pk}/change/"

    shown = client.get(url)
    moved = client.post(url, {"game": other_game.pk, "code": "gold", "name": "Gold", "cap": ""})

    assert "game" not in shown.context["adminform"].form.fields  # shown, not editable
    assert moved.status_code == 302
    assert Currency.objects.get(pk=gold.pk).game_id == game.pk
    assert "game" in client.get("/admin/inventory/currency/add/").context["adminform"].form.fields


def test_a_players_identities_are_not_deleted_from_the_player_page(client, alice, player):
    from apps.accounts.models import PlatformIdentity

    PlatformIdentity.objects.create(
        game=player.game, player=player, platform="dev", platform_user_id="p1"
    )
    client.force_login(alice)

    page = client.get(f"/admin/accounts/player/{player.pk}/change/")

    [identities] = [
        inline for inline in page.context["inline_admin_formsets"]
        if inline.formset.model is PlatformIdentity
    ]  # fmt: skip
    assert not identities.formset.can_delete


@pytest.mark.parametrize(
    "model_admin",
    [
        admin.site.get_model_admin(model)
        for model in apps.get_models()
        if admin.site.is_registered(model)
        and isinstance(admin.site.get_model_admin(model), GameScopedAdmin)
        and admin.site.get_model_admin(model).game_path == "game"
    ],
    ids=lambda model_admin: type(model_admin).__name__,
)
def test_no_admin_lets_a_saved_rows_game_change(rf, admin_user, model_admin):
    request = rf.get("/")
    request.user = admin_user
    saved = model_admin.model(pk=1)

    assert "game" in model_admin.get_readonly_fields(request, saved)


def test_platform_credentials_are_changed_by_owners_only(client, make_operator, alice, game):
    from apps.platforms.models import PlatformCredential

    credential = PlatformCredential.objects.create(
        game=game, platform="steam", enabled=True, config={"app_id": "480"}
    )
    page = f"/admin/platforms/platformcredential/{credential.pk}/change/"
    form = {"game": game.pk, "platform": "steam", "enabled": "on", "config": '{"app_id": "666"}'}

    client.force_login(alice)  # an operator: reads it, changes nothing
    assert client.get(page).status_code == 200
    assert client.post(page, {**form, "new_secrets": ""}).status_code == 403
    assert client.get("/admin/platforms/platformcredential/add/").status_code == 403
    credential.refresh_from_db()
    assert credential.config == {"app_id": "480"}

    owner = make_operator("olive", game, GameAccess.Role.OWNER)
    client.force_login(owner)
    assert client.post(page, {**form, "new_secrets": ""}).status_code == 302
    credential.refresh_from_db()
    assert credential.config == {"app_id": "666"}
