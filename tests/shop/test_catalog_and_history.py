"""GET shop/categories (what this player can buy now) and the player's purchases."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone
from rest_framework.renderers import JSONRenderer

from apps.shop.api import CategoriesApi
from apps.shop.models import Category, Offer
from apps.shop.selectors import CATALOGUE_SECONDS, shop_for_player
from tests.conftest import eventually
from tests.shop.helpers import fund, make_economy, make_offer


@pytest.fixture
def economy(game):
    make_economy(game)


def test_categories_list_open_offers_with_prices_and_remaining_limits(
    player_client, player, game, economy
):
    until = timezone.now() + timedelta(days=2)
    limited = make_offer(game, name="Once", per_player_limit=2, available_until=until)
    make_offer(game, name="Closed", active=False)
    make_offer(game, name="Later", available_from=timezone.now() + timedelta(days=1))
    make_offer(game, name="Gone", stock=0)
    hidden = Category.objects.create(game=game, name="Hidden", active=False)
    make_offer(game, name="In hidden category", category=hidden)
    fund(player, 100)
    player_client.post("/api/v1/shop/purchase", {"offer_id": limited.pk}, HTTP_IDEMPOTENCY_KEY="k")

    response = player_client.get("/api/v1/shop/categories")

    assert response.status_code == 200
    [category] = response.json()
    assert category["name"] == "Main"
    [offer] = category["offers"]
    assert offer["id"] == limited.pk
    assert offer["price"] == {"currency": "gold", "amount": 100, "real_money": False}
    assert offer["contents"] == [{"currency": "gems", "quantity": 10}]
    assert offer["remaining_purchases"] == 1
    assert offer["available_until"].startswith(until.strftime("%Y-%m-%dT%H:%M"))


def test_offers_bought_up_to_the_limit_disappear(player_client, player, game, economy):
    offer = make_offer(game, per_player_limit=1)
    fund(player, 100)
    player_client.post("/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY="k")

    assert player_client.get("/api/v1/shop/categories").json() == []


def test_categories_never_show_another_game(player_client, other_game):
    make_economy(other_game)
    make_offer(other_game)

    assert player_client.get("/api/v1/shop/categories").json() == []


def test_categories_read_the_kept_catalogue_and_the_players_counts_in_one_query(
    player_client, player, game, economy, django_assert_num_queries, django_assert_max_num_queries
):
    offers = [make_offer(game, name=f"Offer {n}", per_player_limit=5) for n in range(10)]
    fund(player, 300)
    for n in range(3):
        player_client.post(
            "/api/v1/shop/purchase", {"offer_id": offers[0].pk}, HTTP_IDEMPOTENCY_KEY=f"k{n}"
        )

    with django_assert_num_queries(2):  # the catalogue, then the player's counts
        shop = shop_for_player(player=player)
    with django_assert_num_queries(1):  # the catalogue is kept; the counts never are
        assert shop_for_player(player=player) == shop
    with django_assert_max_num_queries(2):  # the whole request, pipeline included
        response = player_client.get("/api/v1/shop/categories")

    listed = response.json()[0]["offers"]
    assert len(listed) == len(shop[0]["offers"]) == 10
    assert [o["remaining_purchases"] for o in listed] == [2] + [5] * 9


def test_categories_body_bytes_are_what_the_serializer_renders(
    player_client, player, game, economy
):
    # The view builds the body in OutputSerializer's shape: the same bytes it gives, categories
    # by position, contents as stored, nulls for no limit, stock or end, "Z" timestamps with
    # microseconds, only the stores that sell an offer.
    until = datetime(2999, 1, 2, 3, 4, 5, 60, tzinfo=UTC)
    deals = Category.objects.create(game=game, name="Dëals", position=-1)
    limited = make_offer(
        game,
        name="Once",
        description="Twice at most.",
        per_player_limit=2,
        stock=7,
        available_until=until,
        apple_product_id="com.example.once",
        contents=[{"sku": "potion", "quantity": 2}, {"currency": "gems", "quantity": 1}],
    )
    plain = make_offer(game, name="Plain", category=deals, google_product_id="once_gp")
    fund(player, 100)
    player_client.post("/api/v1/shop/purchase", {"offer_id": limited.pk}, HTTP_IDEMPOTENCY_KEY="k")

    response = player_client.get("/api/v1/shop/categories")

    serialized = CategoriesApi.OutputSerializer(shop_for_player(player=player), many=True).data
    assert response.content == JSONRenderer().render(serialized)
    body = (
        '[{"id":%d,"name":"Dëals","offers":[{"id":%d,"name":"Plain","description":"",'
        '"price":{"currency":"gold","amount":100,"real_money":false},'
        '"contents":[{"currency":"gems","quantity":10}],"remaining_purchases":null,'
        '"stock":null,"available_until":null,"store_products":{"google_play":"once_gp"}}]},'
        '{"id":%d,"name":"Main","offers":[{"id":%d,"name":"Once",'
        '"description":"Twice at most.","price":{"currency":"gold","amount":100,'
        '"real_money":false},"contents":[{"sku":"potion","quantity":2},'
        '{"currency":"gems","quantity":1}],"remaining_purchases":1,"stock":6,'
        '"available_until":"2999-01-02T03:04:05.000060Z",'
        '"store_products":{"apple":"com.example.once"}}]}]'
    ).encode()
    assert response.content == body % (deals.pk, plain.pk, limited.category_id, limited.pk)


def test_purchase_history_and_detail_are_the_players_own(
    player_client, player, other_player, game, other_game, economy
):
    offer = make_offer(game)
    fund(player, 300)
    ids = [
        player_client.post(
            "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY=f"k{n}"
        ).json()["purchase_id"]
        for n in range(2)
    ]

    listed = player_client.get("/api/v1/shop/purchases").json()
    detail = player_client.get(f"/api/v1/shop/purchases/{ids[0]}").json()
    page = player_client.get(f"/api/v1/shop/purchases?before_id={ids[1]}").json()

    assert [p["purchase_id"] for p in listed] == ids[::-1]
    assert detail["status"] == "completed"
    assert detail["granted"] == [{"currency": "gems", "quantity": 10}]
    assert [p["purchase_id"] for p in page] == [ids[0]]


def test_purchases_page_by_cursor_with_a_next_link(player_client, player, game, economy):
    offer = make_offer(game)
    fund(player, 1000)
    ids = [
        player_client.post(
            "/api/v1/shop/purchase", {"offer_id": offer.pk}, HTTP_IDEMPOTENCY_KEY=f"k{n}"
        ).json()["purchase_id"]
        for n in range(5)
    ]

    seen, url, pages = [], "/api/v1/shop/purchases?limit=2", 0
    while url:
        response = player_client.get(url)
        assert response.status_code == 200
        seen += [p["purchase_id"] for p in response.json()]
        pages += 1
        link = response.headers.get("Link")
        if link is None:
            assert "X-Next-Cursor" not in response.headers
            url = None
        else:
            assert link.endswith('>; rel="next"')
            url = link[1 : -len('>; rel="next"')]
            assert f"cursor={response.headers['X-Next-Cursor']}" in url

    assert seen == ids[::-1]
    assert pages == 3
    exact = player_client.get("/api/v1/shop/purchases?limit=5")
    assert "Link" not in exact.headers  # a full last page names no next one
    assert player_client.get("/api/v1/shop/purchases?cursor=abc").status_code == 400
    blank = player_client.get("/api/v1/shop/purchases?cursor=")
    assert (blank.status_code, list(blank.json()["errors"])) == (400, ["cursor"])


def test_someone_elses_purchase_is_404(player_client, other_player, other_game):
    make_economy(other_game)
    offer = make_offer(other_game)
    fund(other_player, 100)
    from apps.shop.services.purchase import purchase_offer

    theirs = purchase_offer(player=other_player, offer_id=offer.pk, quantity=1, idempotency_key="k")

    response = player_client.get(f"/api/v1/shop/purchases/{theirs.body['purchase_id']}")

    assert response.status_code == 404
    assert response.json()["code"] == "purchase_not_found"


@pytest.mark.parametrize(
    "fields,field",
    [
        ({"contents": []}, "contents"),
        ({"contents": [{"currency": "gold"}]}, "contents"),
        ({"contents": [{"currency": "silver", "quantity": 1}]}, "contents"),
        ({"contents": [{"sku": "sword", "currency": "gold", "quantity": 1}]}, "contents"),
        ({"price_currency": "silver"}, "price_currency"),
        ({"real_money": True, "price_currency": "usd"}, "price_currency"),
        ({"real_money": True, "price_currency": "USD", "price_amount": 0}, "price_amount"),
    ],
)
def test_offer_validation_names_the_bad_field(game, economy, fields, field):
    values = {
        "price_currency": "gold",
        "price_amount": 10,
        "contents": [{"currency": "gems", "quantity": 1}],
        **fields,
    }
    offer = Offer(game=game, name="x", **values)

    with pytest.raises(ValidationError) as error:
        offer.full_clean()

    assert field in error.value.message_dict


def test_the_catalogue_is_kept_at_most_catalogue_seconds_and_the_counts_never(
    player_client, player, game, economy
):
    """An operator's edit reaches the catalogue within CATALOGUE_SECONDS; what the player
    bought, and so what they may still buy, shows at once; a purchase reads its offer fresh."""
    limited = make_offer(game, name="Twice", per_player_limit=2)
    other = make_offer(game, name="Other")
    fund(player, 1000)

    def listed() -> dict[str, int | None]:
        body = player_client.get("/api/v1/shop/categories").json()
        return {o["name"]: o["remaining_purchases"] for c in body for o in c["offers"]}

    assert listed() == {"Twice": 2, "Other": None}
    buy = {"offer_id": limited.pk}
    assert (
        player_client.post("/api/v1/shop/purchase", buy, HTTP_IDEMPOTENCY_KEY="a").status_code
        == 201
    )
    assert listed() == {"Twice": 1, "Other": None}  # the player's count is read fresh
    assert (
        player_client.post("/api/v1/shop/purchase", buy, HTTP_IDEMPOTENCY_KEY="b").status_code
        == 201
    )
    assert listed() == {"Other": None}  # bought out: the rules leave it out at once

    Offer.objects.filter(pk=other.pk).update(active=False)
    refused = player_client.post(
        "/api/v1/shop/purchase", {"offer_id": other.pk}, HTTP_IDEMPOTENCY_KEY="c"
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "offer_unavailable")
    assert listed() == {"Other": None}  # still the kept catalogue
    waited = eventually(lambda: listed() == {}, within=CATALOGUE_SECONDS + 1)
    assert waited <= CATALOGUE_SECONDS + 0.25
