"""An operator's stock edit and a purchase at the same moment, on PostgreSQL: the edit's check
("has the stock moved since the page was loaded?") and its write happen under the offer's row
lock, so a purchase committing in between is seen, never overwritten. Also: the plain save, its
audit entry, and a POST that does not send the stock its page was loaded with."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.test import Client

from apps.accounts.models import GameAccess
from apps.audit.models import AuditLogEntry
from apps.shop.models import Offer, Purchase
from apps.shop.services.authoring import UNSAID, StockEdit, StockMoved, stock_to_save
from apps.shop.services.purchase import purchase_offer
from tests.battlepass.admin_forms import form_as_shown
from tests.conftest import wait_until_a_statement_waits_for_a_lock
from tests.panel.conftest import client_for, make_user
from tests.shop.helpers import fund, make_economy, make_offer

pytestmark = pytest.mark.django_db


def race(test: Callable[..., None]) -> Callable[..., None]:
    """Two sessions at once: PostgreSQL's row locks, and committed rows each thread sees."""
    return pytest.mark.postgres(pytest.mark.django_db(transaction=True)(test))


@pytest.fixture
def operator_client(game) -> Client:
    return client_for(make_user("op", game, GameAccess.Role.OPERATOR))


@pytest.fixture
def stocked(game, player) -> Offer:
    make_economy(game)
    fund(player, 1000)
    return make_offer(game, stock=100)


def url_of(offer: Offer) -> str:
    return f"/admin/shop/offer/{offer.pk}/change/"


def save_while_a_purchase_holds_the_offer(
    player, offer: Offer, save: Callable[[], Any]
) -> tuple[Any, Purchase]:
    """A purchase takes a unit (its row lock on the offer held, not yet committed), then `save`
    runs; once `save` waits for that lock, the purchase commits. What `save` answered, and the
    purchase."""
    holding, finish = threading.Event(), threading.Event()
    answers: dict[str, Any] = {}

    def buy() -> None:
        try:
            with transaction.atomic():
                purchase_offer(player=player, offer_id=offer.pk, quantity=1, idempotency_key="r")
                holding.set()
                finish.wait(10)
        finally:
            connection.close()

    def operator() -> None:
        try:
            answers["saved"] = save()
        finally:
            connection.close()

    buyer, editor = threading.Thread(target=buy), threading.Thread(target=operator)
    buyer.start()
    assert holding.wait(10)
    editor.start()
    try:
        wait_until_a_statement_waits_for_a_lock()
    finally:
        finish.set()
        buyer.join(10)
        editor.join(10)
    return answers["saved"], Purchase.objects.get(idempotency_key="r")


@race
def test_a_stock_typed_while_a_purchase_commits_is_refused_with_the_number_now(
    operator_client, stocked, player
):
    page = form_as_shown(operator_client, url_of(stocked))  # shows 100 units left

    refused, purchase = save_while_a_purchase_holds_the_offer(
        player,
        stocked,
        lambda: operator_client.post(url_of(stocked), {**page, "stock": "150"}),
    )

    assert purchase.status == Purchase.Status.COMPLETED
    stocked.refresh_from_db()
    assert stocked.stock == 99  # the unit sold stays sold (not 150: sold twice)
    assert refused.status_code == 200  # the form again, nothing written
    assert "from 100 to 99" in str(refused.context["adminform"].form.errors["stock"])
    assert 'name="initial-stock" value="99"' in refused.content.decode()
    assert not AuditLogEntry.objects.filter(action="admin_change").exists()


@race
def test_a_save_that_leaves_the_stock_alone_keeps_a_purchase_committing_meanwhile(
    operator_client, stocked, player
):
    page = form_as_shown(operator_client, url_of(stocked))

    saved, _ = save_while_a_purchase_holds_the_offer(
        player,
        stocked,
        lambda: operator_client.post(url_of(stocked), {**page, "name": "Gem pack (fixed)"}),
    )

    assert saved.status_code == 302
    stocked.refresh_from_db()
    assert (stocked.name, stocked.stock) == ("Gem pack (fixed)", 99)


def test_a_typed_stock_with_nothing_sold_meanwhile_is_saved_and_audited(operator_client, stocked):
    page = form_as_shown(operator_client, url_of(stocked))

    saved = operator_client.post(url_of(stocked), {**page, "stock": "250"})

    assert saved.status_code == 302
    assert Offer.objects.get(pk=stocked.pk).stock == 250
    entry = AuditLogEntry.objects.get(action="admin_change")
    assert (entry.target_id, entry.before["stock"], entry.after["stock"]) == (
        str(stocked.pk),
        100,
        250,
    )


def test_unlimited_stock_made_limited_and_back_is_saved(operator_client, game):
    make_economy(game)
    offer = make_offer(game, stock=None)
    page = form_as_shown(operator_client, url_of(offer))

    # A browser posts the hidden initial even when empty (unlimited).
    limited = operator_client.post(url_of(offer), {**page, "stock": "5", "initial-stock": ""})
    assert limited.status_code == 302
    assert Offer.objects.get(pk=offer.pk).stock == 5

    unlimited = operator_client.post(url_of(offer), {**page, "stock": "", "initial-stock": "5"})
    assert unlimited.status_code == 302
    assert Offer.objects.get(pk=offer.pk).stock is None


def test_a_post_without_the_loaded_stock_is_asked_again_with_the_number_now(
    operator_client, stocked
):
    page = form_as_shown(operator_client, url_of(stocked))
    del page["initial-stock"]  # a script that posts the fields but not the page's hidden input

    refused = operator_client.post(url_of(stocked), {**page, "stock": "150"})

    assert refused.status_code == 200
    message = str(refused.context["adminform"].form.errors["stock"])
    assert "did not send the stock its page was loaded with" in message
    assert "the stock is 100 now" in message
    assert Offer.objects.get(pk=stocked.pk).stock == 100
    # The page shown again carries the number there is now: sent back, the save goes through.
    assert 'name="initial-stock" value="100"' in refused.content.decode()
    again = operator_client.post(url_of(stocked), {**page, "stock": "150", "initial-stock": "100"})
    assert again.status_code == 302
    assert Offer.objects.get(pk=stocked.pk).stock == 150


def test_a_post_without_the_loaded_stock_that_leaves_it_alone_keeps_it(operator_client, stocked):
    page = form_as_shown(operator_client, url_of(stocked))
    del page["initial-stock"]
    del page["stock"]

    saved = operator_client.post(url_of(stocked), {**page, "name": "Renamed"})

    assert saved.status_code == 302
    stocked.refresh_from_db()
    assert (stocked.name, stocked.stock) == ("Renamed", 100)


@race
def test_the_stock_is_not_decided_outside_the_transaction_that_writes_it(stocked):
    # Outside a transaction the row lock would end before the write: PostgreSQL refuses.
    with pytest.raises(TransactionManagementError):
        stock_to_save(offer_id=stocked.pk, edit=None)
    with transaction.atomic():
        assert stock_to_save(offer_id=stocked.pk, edit=StockEdit(typed=7, loaded=100)) == 7
        with pytest.raises(StockMoved):
            stock_to_save(offer_id=stocked.pk, edit=StockEdit(typed=7, loaded=UNSAID))
