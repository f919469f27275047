"""`quick_purchase`: the plain successful virtual purchase in one database round trip.

`purchase_offer` takes about fourteen round trips, and on one player's wallets every one of them
is spent holding the locks the next purchase waits for. The function `shop_quick_purchase`
(migration shop 0002, PostgreSQL only) writes the same rows in one statement, which commits by
itself. It handles only what succeeds: a key already used, every refusal and every offer it does
not understand raise SQLSTATE GP001 with nothing written, and the caller then runs
`purchase_offer`, which answers as it always has (stored refusals, replays, 422 on another body).
"""

from __future__ import annotations

import json

import psycopg
from django.db import OperationalError, connection, transaction
from django.utils import timezone

from apps.analytics.services import RECENT_DAYS
from apps.shop.models import Purchase
from apps.shop.services.purchase import (
    PurchaseResult,
    request_fingerprint,
    virtual_purchase_body,
)

FALL_BACK = "GP001"  # raised by shop_quick_purchase: nothing was written, ask purchase_offer
QUICK_PURCHASE_SQL = (
    "SELECT purchase_id, currencies, balances, granted::text FROM shop_quick_purchase("
    "%s::bigint, %s::bigint, %s::bigint, %s::integer, %s::text, %s::text, %s::timestamptz, "
    "%s::integer)"
)


class FallBack(Exception):
    """The fast path does not answer this purchase: `purchase_offer` must."""


def quick_purchase(
    *, player_id: int, game_id: int, offer_id: int, quantity: int, idempotency_key: str
) -> PurchaseResult | None:
    """The 201 of a virtual purchase that succeeded, or None when `purchase_offer` must answer
    (nothing was written then). The player is checked here (exists in the game, not banned)."""
    if connection.vendor != "postgresql":
        return None
    params = (
        player_id,
        game_id,
        offer_id,
        quantity,
        idempotency_key,
        request_fingerprint(offer_id=offer_id, quantity=quantity),
        timezone.now(),
        RECENT_DAYS,
    )
    try:
        if connection.in_atomic_block:
            # Inside a caller's transaction (tests): a savepoint, so a fall back undoes only this.
            with transaction.atomic():
                row = _call(params)
        else:
            # Autocommit: the one statement is its own transaction, no BEGIN/COMMIT round trips.
            row = _call(params)
    except FallBack:
        return None
    purchase_id, currencies, balances, granted = row
    body = virtual_purchase_body(
        purchase_id=purchase_id,
        status=Purchase.Status.COMPLETED,
        balances=dict(zip(currencies, balances, strict=True)),
        granted=json.loads(granted),  # text, as Django's JSONField reads jsonb
    )
    return PurchaseResult(201, body)


def _call(params: tuple) -> tuple:
    # No health check first (Django's costs a round trip of its own on each request): a
    # connection the statement finds broken is replaced and the statement sent once more. That
    # is safe: if the first attempt did commit, the second finds its key used and falls back,
    # and purchase_offer answers with the first attempt's purchase.
    may_be_stale = connection.health_check_enabled and not connection.health_check_done
    connection.ensure_connection()
    try:
        row = _execute(params)
    except OperationalError:
        if not (may_be_stale and connection.connection.closed):
            raise
        connection.close()
        connection.ensure_connection()
        row = _execute(params)
    connection.health_check_done = True  # as close_if_health_check_failed leaves it
    return row


def _execute(params: tuple) -> tuple:
    # A plain psycopg cursor binds parameters on the server, so where the deployment allows
    # prepared statements (Django's OPTIONS "prepare_threshold"; off by default for poolers)
    # this one is prepared once per connection. Django's own cursor binds on the client.
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        try:
            cursor.execute(QUICK_PURCHASE_SQL, params, prepare=True)
        except psycopg.Error as error:
            if error.sqlstate == FALL_BACK:
                raise FallBack(error.diag.message_primary) from None
            raise
        return cursor.fetchone()
