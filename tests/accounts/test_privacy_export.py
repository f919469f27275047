"""The player's data export is complete: sessions, active days, submitted scores, the audit
log's entries about the account, the purchase, payment and match columns; never a token, a
token's hash or a secret; one transaction, a bounded number of queries
(apps.accounts.privacy.export_player_data, docs/guide/privacy.md)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from datetime import date, timedelta

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts import privacy
from apps.accounts.models import AuthSession, Game, Player, SessionRefreshToken
from apps.accounts.privacy import export_player_data
from apps.accounts.services.bans import ban_player, end_sessions, unban_player
from apps.analytics.models import PlayerDay, RawEvent
from apps.audit.models import AuditLogEntry
from apps.audit.services import record_action
from apps.cloudsave.models import Document
from apps.cloudsave.services import restore_version
from apps.inventory.models import Currency
from apps.inventory.services import Change, apply_changes, operator_adjust
from apps.leaderboards.models import Board, Entry, Payout, Period
from apps.leaderboards.services.entries import remove_entry
from apps.leaderboards.services.payouts import retry_payouts
from apps.leaderboards.services.submit import submit_score
from apps.multiplayer.models import Match, MatchResult
from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Offer, Purchase
from tests.accounts.conftest import REFRESH, bearer
from tests.accounts.test_privacy import SAVES, player_of

OPERATOR = "operator-zebra-91"  # found nowhere in an export


def exported(player: Player) -> tuple[dict, str]:
    """The export, and its JSON as the API and the panel write it."""
    data = export_player_data(player)
    return data, json.dumps(data, cls=DjangoJSONEncoder)


@pytest.fixture
def op(make_operator, game: Game):
    return make_operator(OPERATOR, game, "operator")


@pytest.fixture
def offer(game: Game) -> Offer:
    return Offer.objects.create(
        game=game, name="Gem pack", real_money=True, price_currency="EUR", price_amount=199
    )


def paid_purchase(
    player: Player, offer: Offer, *, purchase_status: str | None = None, **payment: object
) -> Purchase:
    purchase = Purchase.objects.create(
        game=player.game,
        player=player,
        offer=offer,
        price_currency="EUR",
        price_amount=199,
        real_money=True,
        provider=str(payment.get("provider", "stripe")),
        **({"status": purchase_status} if purchase_status else {}),
    )
    Payment.objects.create(
        game=player.game, purchase=purchase, amount=199, currency="EUR", **payment
    )
    return purchase


def test_sessions_days_submissions_and_the_new_columns_are_exported(
    login: Callable[..., dict], game: Game, offer: Offer
):
    first = login("alice")
    refreshed = bearer(first["access_token"]).post(
        REFRESH, {"refresh_token": first["refresh_token"]}, format="json"
    )
    assert refreshed.status_code == 200, refreshed.content
    login("alice")  # a second session
    player = Player.objects.get(pk=first["player"]["id"])
    first_session = AuthSession.objects.filter(player=player).order_by("pk")[0]
    end_sessions(sessions=AuthSession.objects.filter(pk=first_session.pk), actor=None)
    PlayerDay.objects.create(
        game_id=game.pk, player_id=player.pk, day=date(2026, 3, 1), events=4, sessions=2
    )
    RawEvent.objects.create(
        game=game,
        player=player,
        source=RawEvent.Source.CLIENT,
        name="level_up",
        event_id="client-evt-1",
        occurred_at=timezone.now(),
        day=timezone.now().date(),
    )
    board = Board.objects.create(game=game, slug="high", name="High", allow_client_submissions=True)
    submit_score(board=board, player_id=player.pk, score=5, submission_id="c1", from_client=True)
    submit_score(board=board, player_id=player.pk, score=9, submission_id="match:m1:1")
    purchase = paid_purchase(player, offer, provider="stripe", external_id="cs_test_a1b2")
    Purchase.objects.filter(pk=purchase.pk).update(
        status=Purchase.Status.FAILED,
        bought=[{"kind": "currency", "code": "gems", "quantity": 100}],
        outcome="payment_failed",
        note="checkout failed",
    )
    started = timezone.now() - timedelta(minutes=10)
    match = Match.objects.create(
        game=game, match_id="m1", mode="duel", started_at=started, ended_at=timezone.now()
    )
    MatchResult.objects.create(
        match=match,
        player=player,
        outcome="win",
        score=3,
        ignored_stats=["style"],
        xp_awarded=10,
        season_xp_awarded=4,
        level_before=1,
        level_after=2,
        counted=False,
        recorded_at=timezone.now(),
    )

    data, _ = exported(player)

    sessions = data["sessions"]
    assert len(sessions) == 2
    assert set(sessions[0]) == {
        "platform",
        "platform_user_id",
        "opened_at",
        "last_refreshed_at",
        "expires_at",
        "revoked_at",
        "revoke_reason",
    }
    assert [s["revoke_reason"] for s in sessions] == ["operator", ""]
    assert sessions[0]["last_refreshed_at"] is not None and sessions[0]["platform"] == "dev"
    assert sessions[1]["platform_user_id"] == "alice" and sessions[1]["revoked_at"] is None
    assert data["analytics"]["days"] == [{"day": date(2026, 3, 1), "events": 4, "sessions": 2}]
    assert "client-evt-1" in [e["event_id"] for e in data["analytics"]["events"]]
    assert [
        (s["board"], s["period"], s["submission_id"], s["score"], s["from_client"])
        for s in data["leaderboards"]["submissions"]
    ] == [("high", 1, "c1", 5, True), ("high", 1, "match:m1:1", 9, False)]
    (bought,) = data["shop"]["purchases"]
    assert bought["bought"] == [{"kind": "currency", "code": "gems", "quantity": 100}]
    assert (bought["outcome"], bought["note"], bought["refund_shortfall"]) == (
        "payment_failed",
        "checkout failed",
        [],
    )
    (payment,) = data["payments"]
    assert (payment["external_id"], payment["purchase_id"]) == ("cs_test_a1b2", purchase.pk)
    assert payment["updated_at"] is not None
    (result,) = data["matches"]
    assert result | {"recorded_at": None} == {
        "match_id": "m1",
        "mode": "duel",
        "started_at": started,
        "ended_at": match.ended_at,
        "outcome": "win",
        "score": 3,
        "stats": {},
        "ignored_stats": ["style"],
        "xp_awarded": 10,
        "season_xp_awarded": 4,
        "level_before": 1,
        "level_after": 2,
        "counted": False,
        "recorded_at": None,
    }


def test_no_token_hash_or_secret_is_exported(
    login: Callable[..., dict], game: Game, offer: Offer, op
):
    first = login("alice")
    refreshed = (
        bearer(first["access_token"])
        .post(REFRESH, {"refresh_token": first["refresh_token"]}, format="json")
        .json()
    )
    player = Player.objects.get(pk=first["player"]["id"])
    ended = AuthSession.objects.get(player=player)
    end_sessions(sessions=AuthSession.objects.filter(pk=ended.pk), actor=op, reason="stolen")
    second = login("alice")
    stripe = paid_purchase(
        player,
        offer,
        provider="stripe",
        external_id="cs_live_visible_1",
        payment_reference="pi_reference_9",
        checkout_url="https://checkout.example.com/c/pay_cs_secret_link",
    )
    Purchase.objects.filter(pk=stripe.pk).update(
        idempotency_key="client-idem-key-42",
        request_hash="f" * 64,
        response_body={"payment": {"checkout_url": "https://checkout.example.com/c/x"}},
    )
    token = "google-purchase-token-" + "q" * 60
    paid_purchase(player, offer, provider="google_play", external_id=token, payment_reference=token)
    long_token = "google-long-token-" + "z" * 300  # known by its hash
    token_hash = "token-sha256:" + hashlib.sha256(long_token.encode()).hexdigest()
    paid_purchase(
        player,
        offer,
        provider="google_play",
        external_id=token_hash,
        payment_reference=long_token,
    )
    ProviderEvent.objects.create(
        game=game,
        provider="stripe",
        event_id="evt_1",
        event_type="checkout.session.completed",
        payload={"api_key": "sk_live_provider_secret", "customer_email": "alice@example.com"},
        status=ProviderEvent.Status.PROCESSED,
        payment=Payment.objects.get(purchase=stripe),
    )
    # The refreshed session names its previous refresh token (the grace token) too.
    assert AuthSession.objects.filter(player=player, grace_token__isnull=False).exists()

    data, text = exported(player)

    # What is there: both sessions, the payments by their provider ids (a token masked).
    assert [s["revoke_reason"] for s in data["sessions"]] == ["operator", ""]
    assert [p["external_id"] for p in data["payments"]] == [
        "cs_live_visible_1",
        "go••••qqqq",
        f"to••••{token_hash[-4:]}",
    ]
    assert ("session.revoke", "stolen") in [(e["action"], e["reason"]) for e in data["audit_log"]]
    # What never is: any token, any token's hash, any link, key or payload.
    secrets = [
        first["access_token"],
        first["refresh_token"],
        refreshed["access_token"],
        refreshed["refresh_token"],
        second["access_token"],
        second["refresh_token"],
        *SessionRefreshToken.objects.filter(session__player=player).values_list(
            "token_hash", flat=True
        ),
        *Payment.objects.filter(purchase__player=player).values_list("public_token", flat=True),
        token,
        long_token,
        token_hash,
        "pi_reference_9",
        "pay_cs_secret_link",
        "checkout.example.com",
        "client-idem-key-42",
        "f" * 64,
        "sk_live_provider_secret",
        "alice@example.com",
        OPERATOR,
    ]
    for secret in secrets:
        assert secret and secret not in text, secret
    for key in ("token", "hash", "grace", "actor", "public_token", "checkout_url", "payload"):
        assert f'"{key}' not in text, key


def test_audit_entries_about_the_player_are_exported_without_the_operator(
    tokens: dict, game: Game, other_game: Game, op
):
    player = player_of(tokens)
    alice = bearer(tokens["access_token"])
    for precondition in ({"HTTP_IF_NONE_MATCH": "*"}, {"HTTP_IF_MATCH": '"1"'}):
        saved = alice.put(f"{SAVES}/slot1", {"value": {"lvl": 1}}, format="json", **precondition)
        assert saved.status_code in (200, 201), saved.content
    other = Player.objects.create(game=game, display_name="bob")
    board = Board.objects.create(game=game, slug="high", name="High")
    submit_score(board=board, player_id=player.pk, score=42, submission_id="s1")
    submit_score(board=board, player_id=other.pk, score=7, submission_id="s2")
    Currency.objects.create(game=game, code="gold", name="Gold")
    ban_player(player=player, reason="cheating", until=None, actor=op)
    unban_player(player=player, reason="appeal accepted", actor=op)
    operator_adjust(
        actor=op,
        player=player,
        change=Change("currency", "gold", 25),
        note="sorry for the outage",
        idempotency_key="grant-1",
    )
    ban_player(player=other, reason="not about alice", until=None, actor=op)
    # A session an operator ended, then pruned: its entry stays, and is still alice's.
    session = AuthSession.objects.create(
        game=game, player=player, platform="dev", expires_at=timezone.now() + timedelta(days=1)
    )
    end_sessions(sessions=AuthSession.objects.filter(pk=session.pk), actor=op, reason="stolen")
    AuthSession.objects.filter(pk=session.pk).delete()
    restore_version(
        actor=op, player=player, key="slot1", version=1, reason="lost progress", seen_version=2
    )
    # A leaderboard entry removed (the entry is deleted), a payout retried, a refund.
    remove_entry(entry=Entry.objects.get(player=player), actor=op, reason="exploit")
    remove_entry(entry=Entry.objects.get(player=other), actor=op, reason="not alice's")
    period = Period.objects.get(board=board, state=Period.State.OPEN)
    payout = Payout.objects.create(period=period, player=player, rank=1, score=42, attempts=3)
    retry_payouts(payout_ids=[payout.pk], game_ids={game.pk}, actor=op)
    offer = Offer.objects.create(
        game=game, name="Gem pack", real_money=True, price_currency="EUR", price_amount=199
    )
    purchase = paid_purchase(player, offer, provider="sandbox")
    record_action(
        actor=op,
        game=game,
        action="payments.refund",
        target=Payment.objects.get(purchase=purchase),
        reason="duplicate charge",
    )
    # Another game's entry naming the same player id is not this player's.
    record_action(actor=op, game=other_game, action="player.ban", target=player, reason="x")
    assert AuditLogEntry.objects.filter(actor_name=OPERATOR).count() == 11

    data, text = exported(player)

    assert [(e["action"], e["reason"]) for e in data["audit_log"]] == [
        ("player.ban", "cheating"),
        ("player.unban", "appeal accepted"),
        ("inventory.grant", "sorry for the outage"),
        ("session.revoke", "stolen"),
        ("cloudsave.restore_version", "lost progress"),
        ("leaderboard.remove_entry", "exploit"),
        ("leaderboard.retry_payout", ""),
        ("payments.refund", "duplicate charge"),
    ]
    assert all(set(e) == {"action", "reason", "created_at"} for e in data["audit_log"])
    assert OPERATOR not in text


def test_a_restored_saves_entry_stays_in_the_export_after_the_save_is_gone(
    tokens: dict, game: Game, op
):
    # A save deleted by its player is pruned as a tombstone some days later; the operator's
    # restore of it stays in the audit log, and is still the player's.
    player = player_of(tokens)
    alice = bearer(tokens["access_token"])
    for precondition in ({"HTTP_IF_NONE_MATCH": "*"}, {"HTTP_IF_MATCH": '"1"'}):
        saved = alice.put(f"{SAVES}/slot1", {"value": {"lvl": 1}}, format="json", **precondition)
        assert saved.status_code in (200, 201), saved.content
    restore_version(
        actor=op, player=player, key="slot1", version=1, reason="lost progress", seen_version=2
    )
    # Another player's restored document, its key naming alice's id: not hers.
    other = Player.objects.create(game=game, display_name="bob")
    record_action(
        actor=op,
        game=game,
        action="cloudsave.restore_version",
        target=Document.objects.create(
            game=game, player=other, key=f"x_of_player_{player.pk}", version=1, value={}, size=2
        ),
        reason="bob's",
    )
    Document.objects.filter(player=player).delete()

    data, _ = exported(player)

    assert [(e["action"], e["reason"]) for e in data["audit_log"]] == [
        ("cloudsave.restore_version", "lost progress")
    ]


def test_the_profile_is_read_in_the_export_not_taken_from_the_callers_copy(player: Player):
    # The API's player comes from a cache kept a second per process.
    cached = Player.objects.get(pk=player.pk)
    Player.objects.filter(pk=player.pk).update(display_name="alice2", ban_reason="spam")

    data = export_player_data(cached)

    assert (data["profile"]["display_name"], data["profile"]["ban_reason"]) == ("alice2", "spam")


@pytest.mark.django_db(transaction=True)
def test_every_section_is_read_in_one_transaction(game: Game, monkeypatch):
    player = Player.objects.create(game=game, display_name="alice")
    seen = []
    for section in privacy.privacy_sections():
        monkeypatch.setitem(
            privacy._sections,
            section.name,
            privacy.PrivacySection(
                name=section.name,
                export=lambda p, s=section: seen.append(connection.in_atomic_block) or s.export(p),
            ),
        )

    export_player_data(player)

    assert seen and all(seen)


def seed(player: Player, offer: Offer, rows: int) -> None:
    """`rows` of every kind the export lists one by one."""
    game = player.game
    gold = Currency.objects.get_or_create(game=game, code="gold", defaults={"name": "Gold"})[0]
    board = Board.objects.get_or_create(game=game, slug="high", defaults={"name": "High"})[0]
    now = timezone.now()
    for n in range(rows):
        key = f"{player.pk}-{n}"
        apply_changes(
            player=player,
            changes=[Change("currency", gold.code, 1)],
            reason="grant",
            idempotency_key=key,
        )
        AuthSession.objects.create(
            game=game, player=player, platform="dev", expires_at=now + timedelta(days=1)
        )
        PlayerDay.objects.create(
            game_id=game.pk, player_id=player.pk, day=date(2026, 1, 1) + timedelta(days=n)
        )
        submit_score(board=board, player_id=player.pk, score=n, submission_id=key)
        paid_purchase(player, offer, provider="stripe", external_id=f"cs_{key}")
        match = Match.objects.create(
            game=game, match_id=key, mode="duel", started_at=now, ended_at=now
        )
        MatchResult.objects.create(match=match, player=player, outcome="win", recorded_at=now)
        record_action(actor=None, game=game, action="player.ban", target=player, reason=key)


def test_the_number_of_queries_does_not_grow_with_the_rows(
    game: Game, offer: Offer, django_assert_max_num_queries
):
    few = Player.objects.create(game=game, display_name="few")
    many = Player.objects.create(game=game, display_name="many")
    seed(few, offer, 1)
    seed(many, offer, 25)

    with CaptureQueriesContext(connection) as for_few:
        export_player_data(few)
    with django_assert_max_num_queries(len(for_few)):
        data = export_player_data(many)

    assert len(for_few) <= 30
    counts = [
        len(data["sessions"]),
        len(data["analytics"]["days"]),
        len(data["leaderboards"]["submissions"]),
        len(data["shop"]["purchases"]),
        len(data["payments"]),
        len(data["matches"]),
        len(data["audit_log"]),
        len(data["inventory"]["ledger"]),
    ]
    assert counts == [25] * len(counts)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_inside_a_callers_transaction_the_export_reads_that_transaction(game: Game):
    player = Player.objects.create(game=game, display_name="alice")

    with transaction.atomic():
        # Not the transaction's first statement any more: SET TRANSACTION would fail here.
        PlayerDay.objects.create(game_id=game.pk, player_id=player.pk, day=date(2026, 2, 2))
        with CaptureQueriesContext(connection) as queries:
            data = export_player_data(player)
        assert Player.objects.filter(pk=player.pk).exists()  # the transaction still works

    assert [d["day"] for d in data["analytics"]["days"]] == [date(2026, 2, 2)]
    assert not [q for q in queries if "SET TRANSACTION" in q["sql"]]
