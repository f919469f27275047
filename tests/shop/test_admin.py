"""Operators' screens: offers with a player preview, purchases with their ledger entries,
payment credentials for owners only, all scoped to the operator's games."""

from apps.accounts.models import GameAccess
from apps.payments.models import ProviderAccount
from apps.shop.services.purchase import purchase_offer
from tests.shop.helpers import fund, make_economy, make_offer


def test_offer_page_previews_what_a_player_sees(client, make_operator, game):
    make_economy(game)
    offer = make_offer(game, name="Gem pack")
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    page = client.get(f"/admin/shop/offer/{offer.pk}/change/").content.decode()

    assert "listed now" in page
    assert "&quot;real_money&quot;: false" in page


def test_the_offer_list_titles_its_price_column_price(client, make_operator, game):
    make_economy(game)
    make_offer(game, name="Gem pack")
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    page = client.get("/admin/shop/offer/").content.decode()

    assert 'class="column-price_shown"' in page and ">Price</" in page


def test_the_offer_list_reads_the_same_queries_however_many_offers_it_shows(
    client, make_operator, game
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from apps.shop.models import Category

    make_economy(game)
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    def offers_in_own_categories(count: int) -> int:
        for n in range(count):
            category = Category.objects.create(game=game, name=f"Aisle {n}-{count}")
            make_offer(game, name=f"Pack {n}-{count}", category=category)
        with CaptureQueriesContext(connection) as captured:
            assert client.get("/admin/shop/offer/").status_code == 200
        return len(captured)

    few = offers_in_own_categories(2)

    assert offers_in_own_categories(12) == few


def test_purchase_page_shows_its_ledger_entries(client, make_operator, game, player):
    make_economy(game)
    offer = make_offer(game)
    fund(player, 100)
    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    client.force_login(make_operator("charlie", game, GameAccess.Role.ANALYST))

    page = client.get(f"/admin/shop/purchase/{result.body['purchase_id']}/change/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "<td>gold</td><td>-100</td>" in html
    assert "<td>gems</td><td>+10</td>" in html


def test_an_operator_note_that_looks_like_a_purchase_reference_is_not_on_its_page(
    client, make_operator, game, other_game, player, other_player
):
    from apps.inventory.models import Currency
    from apps.inventory.services import Change, operator_adjust
    from apps.shop.models import Purchase

    make_economy(game)
    offer = make_offer(game)
    fund(player, 100)
    result = purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    purchase = Purchase.objects.get(pk=result.body["purchase_id"])
    Currency.objects.create(game=other_game, code="ruby", name="Ruby")
    other_operator = make_operator("mallory", other_game, GameAccess.Role.OPERATOR)
    operator_adjust(  # another game's operator writes our purchase's reference as a note
        actor=other_operator, player=other_player, change=Change("currency", "ruby", 777),
        note=purchase.ledger_reference, idempotency_key="n1",
    )  # fmt: skip
    operator_adjust(  # and so does one of ours, on the buyer
        actor=make_operator("olga", game, GameAccess.Role.OPERATOR), player=player,
        change=Change("currency", "gold", 5), note=purchase.ledger_reference,
        idempotency_key="n2",
    )  # fmt: skip
    client.force_login(make_operator("charlie", game, GameAccess.Role.ANALYST))

    html = client.get(f"/admin/shop/purchase/{purchase.pk}/change/").content.decode()

    assert "<td>gold</td><td>-100</td>" in html and "<td>gems</td><td>+10</td>" in html
    assert "ruby" not in html and "+777" not in html and "<td>+5</td>" not in html


def test_analyst_cannot_add_offers(client, make_operator, game):
    client.force_login(make_operator("charlie", game, GameAccess.Role.ANALYST))

    assert client.get("/admin/shop/offer/add/").status_code == 403


def test_operator_of_game_a_does_not_see_game_b_purchases(
    client, make_operator, game, other_game, other_player
):
    make_economy(other_game)
    offer = make_offer(other_game)
    fund(other_player, 100)
    purchase_offer(player=other_player, offer_id=offer.pk, quantity=1, idempotency_key="k")
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))

    response = client.get("/admin/shop/purchase/")

    assert list(response.context["cl"].result_list) == []


def test_payment_credentials_are_for_owners_only(client, make_operator, game):
    account = ProviderAccount(game=game, provider="stripe")
    account.set_secrets({"secret_key": "sk_live_abcdefgh1234"})
    account.save()
    client.force_login(make_operator("alice", game, GameAccess.Role.OPERATOR))
    assert client.get("/admin/payments/provideraccount/add/").status_code == 403

    client.force_login(make_operator("olivia", game, GameAccess.Role.OWNER))
    page = client.get(f"/admin/payments/provideraccount/{account.pk}/change/").content.decode()
    assert "sk_live_abcdefgh1234" not in page
    assert "1234" in page  # masked: enough to recognise it
