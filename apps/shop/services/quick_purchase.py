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
from django.db import connection, transaction
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
    connection.close_if_health_check_failed()
    connection.ensure_connection()
    # A plain psycopg cursor binds on the server, so the statement is prepared once per
    # connection (Django's own cursor interpolates on the client and prepares nothing).
    with connection.wrap_database_errors, psycopg.Cursor(connection.connection) as cursor:
        try:
            cursor.execute(QUICK_PURCHASE_SQL, params, prepare=True)
        except psycopg.Error as error:
            if error.sqlstate == FALL_BACK:
                raise FallBack(error.diag.message_primary) from None
            raise
        return cursor.fetchone()
