"""shop_quick_purchase(): the plain successful virtual purchase in one statement (PostgreSQL).

It writes exactly the rows `purchase_offer` writes for a virtual purchase that succeeds (the
purchase, the limit counter and stock, the analytics fact, wallets and holdings created on
first use, balances, ledger entries), taking the same locks in the same order. Anything else
(a key already used, a refusal, a line it does not handle) raises SQLSTATE GP001 before
committing anything, and the Python path answers instead: one authority for every refusal and
replay. Keep it in step with apps/shop/services/purchase.py, limits.py, fulfilment.py and
apps/inventory/services.py; tests/shop/test_quick_purchase.py pins the parity. A change is a new
migration with CREATE OR REPLACE. See docs/economy.md, "The purchase fast path".
"""

from django.db import migrations

CREATE_FUNCTION = r"""
CREATE OR REPLACE FUNCTION shop_quick_purchase(
    p_player_id bigint,
    p_game_id bigint,
    p_offer_id bigint,
    p_quantity integer,
    p_key text,
    p_fingerprint text,
    p_now timestamptz,
    p_recent_days integer,
    OUT purchase_id bigint,
    OUT currencies text[],
    OUT balances bigint[],
    OUT granted jsonb
)
LANGUAGE plpgsql
AS $function$
DECLARE
    max_bigint CONSTANT numeric := 9223372036854775807;
    v_price_currency text;
    v_price_amount bigint;
    v_contents jsonb;
    v_per_player_limit integer;
    v_stock bigint;
    v_total numeric;
    v_line jsonb;
    v_kinds text[];
    v_codes text[];
    v_deltas numeric[];
    v_wallet_codes text[];
    v_item_skus text[];
    v_counted bigint;
    v_counter_id bigint;
    v_counter_count integer;
    v_day date;
    v_reference text;
    v_too_large boolean;
    v_plain boolean;
BEGIN
    -- The player as authentication checks it (exists in the token's game, not banned), and
    -- the offer as purchase_offer reads it before its transaction: of this game, open now
    -- (Offer.is_open), priced in a virtual currency.
    SELECT o.price_currency, o.price_amount, o.contents, o.per_player_limit, o.stock
      INTO v_price_currency, v_price_amount, v_contents, v_per_player_limit, v_stock
      FROM shop_offer o
      JOIN accounts_player p ON p.id = p_player_id AND p.game_id = o.game_id
     WHERE o.id = p_offer_id AND o.game_id = p_game_id
       AND (p.banned_until IS NULL OR p.banned_until <= p_now)
       AND NOT o.real_money AND o.active
       AND (o.available_from IS NULL OR o.available_from <= p_now)
       AND (o.available_until IS NULL OR p_now < o.available_until)
       AND (o.stock IS NULL OR o.stock > 0)
       AND jsonb_typeof(o.contents) = 'array';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'fall back: player or offer' USING ERRCODE = 'GP001';
    END IF;
    v_total := v_price_amount::numeric * p_quantity;
    IF v_total > max_bigint THEN
        RAISE EXCEPTION 'fall back: total' USING ERRCODE = 'GP001';
    END IF;

    -- granted_lines() and changes_from_contents() for plain lines only, each exactly
    -- {"currency"|"sku": <string>, "quantity": <positive integer>}: a battle-pass line, or any
    -- other shape, falls back.
    FOR v_line IN SELECT value FROM jsonb_array_elements(v_contents) LOOP
        v_plain := CASE WHEN jsonb_typeof(v_line) = 'object' THEN
                (v_line ? 'currency') <> (v_line ? 'sku')
                AND v_line - 'currency' - 'sku' - 'quantity' = '{}'::jsonb
                AND jsonb_typeof(coalesce(v_line -> 'currency', v_line -> 'sku')) = 'string'
                AND jsonb_typeof(v_line -> 'quantity') = 'number'
                AND (v_line ->> 'quantity') ~ '^[1-9][0-9]{0,15}$'
            ELSE false END;
        IF NOT v_plain THEN
            RAISE EXCEPTION 'fall back: contents' USING ERRCODE = 'GP001';
        END IF;
    END LOOP;
    granted := coalesce(
        (SELECT jsonb_agg(l.line || jsonb_build_object(
                              'quantity', (l.line ->> 'quantity')::bigint * p_quantity)
                          ORDER BY l.n)
           FROM jsonb_array_elements(v_contents) WITH ORDINALITY AS l(line, n)),
        '[]'::jsonb);

    -- apply_changes: the price debit and the contents as one change per (kind, code), zero
    -- sums dropped, in (kind, code) order (COLLATE "C": Python's code point order).
    SELECT coalesce(array_agg(m.kind ORDER BY m.kind COLLATE "C", m.code COLLATE "C"), '{}'),
           coalesce(array_agg(m.code ORDER BY m.kind COLLATE "C", m.code COLLATE "C"), '{}'),
           coalesce(array_agg(m.delta ORDER BY m.kind COLLATE "C", m.code COLLATE "C"), '{}'),
           coalesce(array_agg(m.code) FILTER (WHERE m.kind = 'currency'), '{}'),
           coalesce(array_agg(m.code) FILTER (WHERE m.kind = 'item'), '{}'),
           coalesce(bool_or(abs(m.delta) > max_bigint), false)
      INTO v_kinds, v_codes, v_deltas, v_wallet_codes, v_item_skus, v_too_large
      FROM (SELECT c.kind, c.code, sum(c.delta) AS delta
              FROM (SELECT 'currency' AS kind, v_price_currency AS code, -v_total AS delta
                    UNION ALL
                    SELECT CASE WHEN l ? 'currency' THEN 'currency' ELSE 'item' END,
                           coalesce(l ->> 'currency', l ->> 'sku'),
                           (l ->> 'quantity')::numeric * p_quantity
                      FROM jsonb_array_elements(v_contents) AS l) AS c
             GROUP BY c.kind, c.code
            HAVING sum(c.delta) <> 0) AS m;
    IF v_too_large THEN
        RAISE EXCEPTION 'fall back: amount' USING ERRCODE = 'GP001';
    END IF;

    -- The purchase row first among the writes: a concurrent request with this key waits here
    -- until we commit (then finds the key used and falls back to replay our answer) or roll
    -- back (then goes on as the first).
    INSERT INTO shop_purchase (
        game_id, player_id, offer_id, quantity, source, status, idempotency_key,
        request_hash, real_money, price_currency, price_amount, provider, granted,
        response_status, response_body, refund_shortfall, needs_attention, note,
        created_at, completed_at, refunded_at
    ) VALUES (
        p_game_id, p_player_id, p_offer_id, p_quantity, 'shop', 'completed', p_key,
        p_fingerprint, false, v_price_currency, v_total, '', granted,
        201, NULL, '[]'::jsonb, false, '',
        p_now, p_now, NULL
    )
    ON CONFLICT (player_id, idempotency_key) WHERE NOT (idempotency_key = '') DO NOTHING
    RETURNING id INTO purchase_id;
    IF purchase_id IS NULL THEN
        RAISE EXCEPTION 'fall back: key used' USING ERRCODE = 'GP001';
    END IF;
    v_reference := 'purchase:' || purchase_id;

    -- limits.reserve: the counter row serialises one player's purchases of a limited offer;
    -- stock is taken by a conditional update.
    IF v_per_player_limit IS NOT NULL THEN
        INSERT INTO shop_offerpurchasecount (player_id, offer_id, count)
        VALUES (p_player_id, p_offer_id, 0)
        ON CONFLICT DO NOTHING;
        SELECT id, count INTO v_counter_id, v_counter_count
          FROM shop_offerpurchasecount
         WHERE player_id = p_player_id AND offer_id = p_offer_id
           FOR UPDATE;
        IF p_quantity > greatest(v_per_player_limit - v_counter_count, 0) THEN
            RAISE EXCEPTION 'fall back: limit' USING ERRCODE = 'GP001';
        END IF;
        UPDATE shop_offerpurchasecount SET count = count + p_quantity WHERE id = v_counter_id;
    END IF;
    IF v_stock IS NOT NULL THEN
        UPDATE shop_offer SET stock = stock - p_quantity
         WHERE id = p_offer_id AND stock >= p_quantity;
        IF NOT FOUND THEN
            RAISE EXCEPTION 'fall back: sold out' USING ERRCODE = 'GP001';
        END IF;
    END IF;

    -- record_completion (record_server_event, then mark_late_days), before the wallet locks.
    v_day := (p_now AT TIME ZONE 'UTC')::date;
    INSERT INTO analytics_rawevent (
        game_id, player_id, source, name, event_id, occurred_at, day, received_at, properties
    ) VALUES (
        p_game_id, p_player_id, 'server', 'purchase_completed', NULL, p_now, v_day, p_now,
        jsonb_build_object(
            'offer_id', p_offer_id, 'purchase_id', purchase_id, 'currency', v_price_currency,
            'amount', v_total, 'real_money', false
        )
    );
    IF v_day < (p_now AT TIME ZONE 'UTC')::date - (p_recent_days - 1) THEN
        INSERT INTO analytics_dirtyday (game_id, day, marked_at)
        VALUES (p_game_id, v_day, p_now)
        ON CONFLICT (game_id, day) DO UPDATE SET marked_at = EXCLUDED.marked_at;
    END IF;

    -- _locked_wallets then _locked_holdings: existing rows locked in currency (item) id order,
    -- missing ones created (cap and limit copied) and all of them locked again.
    IF cardinality(v_wallet_codes) > 0 THEN
        PERFORM 1 FROM inventory_wallet w JOIN inventory_currency c ON c.id = w.currency_id
         WHERE w.player_id = p_player_id AND c.game_id = p_game_id
           AND c.code = ANY (v_wallet_codes)
         ORDER BY w.currency_id
           FOR UPDATE OF w;
        GET DIAGNOSTICS v_counted = ROW_COUNT;
        IF v_counted < cardinality(v_wallet_codes) THEN
            SELECT count(*) INTO v_counted FROM inventory_currency
             WHERE game_id = p_game_id AND code = ANY (v_wallet_codes);
            IF v_counted < cardinality(v_wallet_codes) THEN
                RAISE EXCEPTION 'fall back: unknown currency' USING ERRCODE = 'GP001';
            END IF;
            INSERT INTO inventory_wallet (player_id, currency_id, balance, cap)
            SELECT p_player_id, c.id, 0, c.cap FROM inventory_currency c
             WHERE c.game_id = p_game_id AND c.code = ANY (v_wallet_codes)
               AND NOT EXISTS (
                   SELECT 1 FROM inventory_wallet w
                    WHERE w.player_id = p_player_id AND w.currency_id = c.id)
             ORDER BY c.code
            ON CONFLICT DO NOTHING;
            PERFORM 1 FROM inventory_wallet w JOIN inventory_currency c ON c.id = w.currency_id
             WHERE w.player_id = p_player_id AND c.game_id = p_game_id
               AND c.code = ANY (v_wallet_codes)
             ORDER BY w.currency_id
               FOR UPDATE OF w;
        END IF;
    END IF;
    IF cardinality(v_item_skus) > 0 THEN
        PERFORM 1 FROM inventory_playeritem h JOIN inventory_itemdefinition i ON i.id = h.item_id
         WHERE h.player_id = p_player_id AND i.game_id = p_game_id
           AND i.sku = ANY (v_item_skus)
         ORDER BY h.item_id
           FOR UPDATE OF h;
        GET DIAGNOSTICS v_counted = ROW_COUNT;
        IF v_counted < cardinality(v_item_skus) THEN
            SELECT count(*) INTO v_counted FROM inventory_itemdefinition
             WHERE game_id = p_game_id AND sku = ANY (v_item_skus);
            IF v_counted < cardinality(v_item_skus) THEN
                RAISE EXCEPTION 'fall back: unknown item' USING ERRCODE = 'GP001';
            END IF;
            INSERT INTO inventory_playeritem (player_id, item_id, quantity, "limit")
            SELECT p_player_id, i.id, 0, CASE WHEN i.kind = 'durable' THEN 1 ELSE i.max_stack END
              FROM inventory_itemdefinition i
             WHERE i.game_id = p_game_id AND i.sku = ANY (v_item_skus)
               AND NOT EXISTS (
                   SELECT 1 FROM inventory_playeritem h
                    WHERE h.player_id = p_player_id AND h.item_id = i.id)
             ORDER BY i.sku
            ON CONFLICT DO NOTHING;
            PERFORM 1 FROM inventory_playeritem h
              JOIN inventory_itemdefinition i ON i.id = h.item_id
             WHERE h.player_id = p_player_id AND i.game_id = p_game_id
               AND i.sku = ANY (v_item_skus)
             ORDER BY h.item_id
               FOR UPDATE OF h;
        END IF;
    END IF;

    -- _apply: every change within funds and cap (stack limit), one UPDATE per table, then the
    -- ledger entries in (kind, code) order. A change that does not fit updates no row: the
    -- count falls short and everything is rolled back.
    WITH changes AS (
        SELECT m.kind, m.code, m.delta
          FROM unnest(v_kinds, v_codes, v_deltas) AS m(kind, code, delta)
    ), wallets AS (
        UPDATE inventory_wallet w SET balance = w.balance + m.delta
          FROM changes m, inventory_currency c
         WHERE m.kind = 'currency' AND c.game_id = p_game_id AND c.code = m.code
           AND w.player_id = p_player_id AND w.currency_id = c.id
           AND w.balance + m.delta >= 0 AND (w.cap IS NULL OR w.balance + m.delta <= w.cap)
        RETURNING m.kind, m.code, m.delta, w.currency_id AS ref_id, w.balance AS amount
    ), holdings AS (
        UPDATE inventory_playeritem h SET quantity = h.quantity + m.delta
          FROM changes m, inventory_itemdefinition i
         WHERE m.kind = 'item' AND i.game_id = p_game_id AND i.sku = m.code
           AND h.player_id = p_player_id AND h.item_id = i.id
           AND h.quantity + m.delta >= 0
           AND (h."limit" IS NULL OR h.quantity + m.delta <= h."limit")
        RETURNING m.kind, m.code, m.delta, h.item_id AS ref_id, h.quantity AS amount
    ), changed AS (
        SELECT * FROM wallets UNION ALL SELECT * FROM holdings
    ), entries AS (
        INSERT INTO inventory_ledgerentry (
            game_id, player_id, currency_id, item_id, delta, balance_after, reason,
            reference, idempotency_key, operation_key, actor_id, created_at
        )
        SELECT p_game_id, p_player_id,
               CASE WHEN kind = 'currency' THEN ref_id END,
               CASE WHEN kind = 'item' THEN ref_id END,
               delta, amount, 'purchase', v_reference,
               v_reference || ':' || kind || ':' || code, v_reference, NULL, p_now
          FROM changed
         ORDER BY kind COLLATE "C", code COLLATE "C"
    )
    SELECT count(*),
           coalesce(array_agg(code ORDER BY code COLLATE "C") FILTER (WHERE kind = 'currency'),
                    '{}'),
           coalesce(array_agg(amount ORDER BY code COLLATE "C") FILTER (WHERE kind = 'currency'),
                    '{}')
      INTO v_counted, currencies, balances
      FROM changed;
    IF v_counted < cardinality(v_kinds) THEN
        RAISE EXCEPTION 'fall back: funds, cap or holding limit' USING ERRCODE = 'GP001';
    END IF;
END;
$function$
"""

DROP_FUNCTION = """
DROP FUNCTION IF EXISTS shop_quick_purchase(
    bigint, bigint, bigint, integer, text, text, timestamptz, integer
)
"""


def create_function(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE_FUNCTION, params=None)


def drop_function(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_FUNCTION, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("shop", "0001_initial"),
        ("accounts", "0002_auth_sessions"),
        ("analytics", "0003_raw_event_game_index"),
        ("inventory", "0002_ledgerentry_operation_key_and_more"),
    ]

    operations = [migrations.RunPython(create_function, drop_function)]
