"""A player's data export (GET player/data-export) and account deletion (DELETE player), and the
erasure behind both (apps.accounts.privacy, apps.accounts.services.privacy; docs/guide/privacy.md)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from apps.accounts.api import PlayerDataExportApi
from apps.accounts.models import AuthSession, Game, PlatformIdentity, Player
from apps.accounts.privacy import privacy_sections
from apps.accounts.services.privacy import ERASE_ACTION, erase_player
from apps.analytics.models import RawEvent
from apps.audit.models import AuditLogEntry
from apps.cloudsave.models import Document, DocumentVersion, SaveReceipt, SaveUsage
from apps.inventory.models import Currency, LedgerEntry, Wallet
from apps.inventory.services import Change, apply_changes
from apps.leaderboards.models import Board, Entry
from apps.leaderboards.services.submit import submit_score
from apps.multiplayer.models import Match, MatchResult
from apps.payments.models import Payment, ProviderEvent
from apps.shop.models import Offer, Purchase
from apps.stats.models import PlayerStat, StatDefinition
from gamingpanel.shortcache import clear_every_cache
from tests.accounts.conftest import REFRESH, VALIDATE, assert_problem, bearer

EXPORT = "/api/v1/player/data-export"
ACCOUNT = "/api/v1/player"
SAVES = "/api/v1/player/saves"
CONFIRM = "?confirm=delete%20my%20account"


def player_of(tokens: dict) -> Player:
    return Player.objects.get(pk=tokens["player"]["id"])


def delete_account(client: APIClient, capture: Callable, query: str = CONFIRM) -> object:
    with capture(execute=True):  # the revocation's markers are written after the commit
        response = client.delete(ACCOUNT + query)
    clear_every_cache()  # the token's player is kept a second per process
    return response


@pytest.fixture
def alice(tokens: dict) -> APIClient:
    return bearer(tokens["access_token"])


@pytest.fixture
def stored(tokens: dict, alice: APIClient, game: Game, settings) -> Player:
    """Something of alice's in every app that keeps something about a player."""
    player = player_of(tokens)
    gold = Currency.objects.create(game=game, code="gold", name="Gold")
    apply_changes(
        player=player,
        changes=[Change("currency", "gold", 50)],
        reason="grant",
        idempotency_key="t1",
    )
    assert gold.pk
    kills = StatDefinition.objects.create(game=game, key="kills", name="Kills")
    PlayerStat.objects.create(player=player, definition=kills, value=7, updated_at=timezone.now())
    for precondition in ({"HTTP_IF_NONE_MATCH": "*"}, {"HTTP_IF_MATCH": '"1"'}):
        lvl = 1 if "HTTP_IF_NONE_MATCH" in precondition else 2
        response = alice.put(
            f"{SAVES}/slot1", {"value": {"lvl": lvl}}, format="json", **precondition
        )
        assert response.status_code in (200, 201), response.content
    response = alice.put(
        f"{SAVES}/slot2",
        {"value": "x"},
        format="json",
        HTTP_IF_NONE_MATCH="*",
        HTTP_IDEMPOTENCY_KEY="k1",
    )
    assert response.status_code == 201, response.content
    board = Board.objects.create(game=game, slug="high", name="High")
    submit_score(board=board, player_id=player.pk, score=42, submission_id="s1")
    match = Match.objects.create(
        game=game, match_id="m1", mode="duel", started_at=timezone.now(), ended_at=timezone.now()
    )
    MatchResult.objects.create(
        match=match, player=player, outcome="win", score=3, recorded_at=timezone.now()
    )
    offer = Offer.objects.create(
        game=game, name="Gem pack", real_money=True, price_currency="EUR", price_amount=199
    )
    purchase = Purchase.objects.create(
        game=game, player=player, offer=offer, price_currency="EUR", price_amount=199
    )
    payment = Payment.objects.create(
        game=game,
        purchase=purchase,
        provider="sandbox",
        checkout_url="https://pay.example.com/c/secret",
        payment_reference="purchase-token-secret",
        amount=199,
        currency="EUR",
    )
    ProviderEvent.objects.create(
        game=game,
        provider="sandbox",
        event_id="evt1",
        event_type="paid",
        payload={"customer": {"email": "alice@example.com"}},
        status=ProviderEvent.Status.PROCESSED,
        payment=payment,
    )
    return player


def test_the_export_schema_describes_every_registered_section():
    """The OpenAPI answer of the export lists each app's section (the Postman run and the
    studios' generated clients read it), however the section was registered."""
    described = set(PlayerDataExportApi.OutputSerializer().fields)

    assert {section.name for section in privacy_sections()} <= described


def test_the_export_has_a_section_per_app_and_no_secrets(alice, stored):
    response = alice.get(EXPORT)

    assert response.status_code == 200, response.content
    body = response.json()
    assert {"exported_at", "profile", "identities"} <= set(body)
    assert {section.name for section in privacy_sections()} <= set(body)
    assert body["profile"]["display_name"] == "alice"
    assert body["profile"]["created_at"] and body["profile"]["last_login_at"]
    assert body["identities"] == [
        {
            "platform": "dev",
            "platform_user_id": "alice",
            "linked_at": body["identities"][0]["linked_at"],
            "last_login_at": body["identities"][0]["last_login_at"],
        }
    ]
    assert body["stats"]["values"][0] | {"updated_at": None} == {
        "key": "kills",
        "value": 7,
        "updated_at": None,
    }
    assert body["inventory"]["wallets"] == [{"currency": "gold", "balance": 50}]
    assert [(e["currency"], e["delta"]) for e in body["inventory"]["ledger"]] == [("gold", 50)]
    # The current value of each document, not its history.
    assert {d["key"]: d["value"] for d in body["cloud_saves"]} == {
        "slot1": {"lvl": 2},
        "slot2": "x",
    }
    assert [(e["board"], e["score"]) for e in body["leaderboards"]["entries"]] == [("high", 42)]
    assert [(m["match_id"], m["outcome"]) for m in body["matches"]] == [("m1", "win")]
    assert [p["offer"] for p in body["shop"]["purchases"]] == ["Gem pack"]
    assert body["payments"] == [
        {
            "provider": "sandbox",
            "external_id": "",
            "status": "created",
            "amount": 199,
            "currency": "EUR",
            "created_at": body["payments"][0]["created_at"],
            "updated_at": body["payments"][0]["updated_at"],
            "purchase_id": body["shop"]["purchases"][0]["id"],
        }
    ]
    assert "player_created" in {e["name"] for e in body["analytics"]["events"]}
    assert body["events"] == {"claims": []} and body["battle_pass"] == {"passes": [], "claims": []}
    text = response.content.decode()
    assert "secret" not in text and "rt_" not in text


def test_exports_are_limited_per_player_and_hour(alice, tokens, settings):
    for _ in range(settings.DATA_EXPORTS_PER_HOUR):
        assert alice.get(EXPORT).status_code == 200
    refused = alice.get(EXPORT)

    assert_problem(refused, 429, "rate_limited")
    assert refused["RateLimit-Limit"] == str(settings.DATA_EXPORTS_PER_HOUR)
    assert "Retry-After" in refused


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?confirm=",
        "?confirm=delete%20my%20acount",
        "?confirm=DELETE%20MY%20ACCOUNT",
        "?confirm=delete+my+account%20",
        "?Confirm=delete%20my%20account",
    ],
)
def test_a_delete_without_the_exact_confirmation_erases_nothing(
    alice, tokens, query, django_capture_on_commit_callbacks
):
    response = delete_account(alice, django_capture_on_commit_callbacks, query)

    assert_problem(response, 400, "confirmation_required")
    assert player_of(tokens).erased_at is None
    assert alice.get(EXPORT).status_code == 200


def test_delete_erases_the_player_and_keeps_the_money_rows(
    alice, tokens, stored, django_capture_on_commit_callbacks
):
    response = delete_account(alice, django_capture_on_commit_callbacks)

    assert response.status_code == 204, response.content
    player = player_of(tokens)
    assert player.erased_at is not None
    assert (player.display_name, player.ban_reason) == ("", "")
    assert not PlatformIdentity.objects.filter(player=player).exists()
    assert not AuthSession.objects.filter(player=player, revoked_at__isnull=True).exists()
    # The revoked sessions stay until they expire, without the platform account's id.
    assert AuthSession.objects.filter(player=player).exists()
    assert set(AuthSession.objects.values_list("platform_user_id", flat=True)) == {""}
    # Cloud saves: everything.
    assert not Document.objects.filter(player=player).exists()
    assert not DocumentVersion.objects.filter(document__player=player).exists()
    assert not SaveUsage.objects.filter(player=player).exists()
    assert not SaveReceipt.objects.filter(player=player).exists()
    # Analytics: what the client sent (the panel's own records stay, for the dashboards'
    # figures: test_privacy_review_analytics.py); leaderboards: the open period's entry.
    sent = RawEvent.objects.filter(player=player, source=RawEvent.Source.CLIENT)
    assert not sent.exclude(properties={}).exists()
    assert not sent.filter(event_id__isnull=False).exists()
    assert not Entry.objects.filter(player=player).exists()
    # Payments: kept, without the checkout link and the processor's payload.
    payment = Payment.objects.get(purchase__player=player)
    assert payment.checkout_url == "" and payment.amount == 199
    assert ProviderEvent.objects.get(payment=payment).payload == {}
    # Kept for the accounts, pseudonymous under the tombstone.
    assert Wallet.objects.get(player=player).balance == 50
    assert LedgerEntry.objects.filter(player=player).count() == 1
    assert Purchase.objects.filter(player=player).count() == 1
    assert MatchResult.objects.filter(player=player).count() == 1
    assert PlayerStat.objects.filter(player=player).count() == 1
    (entry,) = AuditLogEntry.objects.filter(action=ERASE_ACTION)
    assert entry.target_id == str(player.pk)
    assert entry.target_repr == f"erased player #{player.pk}"
    assert entry.after == {"erased_by": "player"}
    assert "alice" not in f"{entry.target_repr}{entry.before}{entry.after}{entry.reason}"


def test_after_delete_the_token_is_revoked_everywhere(
    alice, tokens, server_client, django_capture_on_commit_callbacks
):
    assert delete_account(alice, django_capture_on_commit_callbacks).status_code == 204

    # A retry of the DELETE with the same token: 401, which a kit takes as done.
    assert_problem(alice.delete(ACCOUNT + CONFIRM), 401, "token_revoked")
    assert_problem(alice.get(EXPORT), 401, "token_revoked")
    refresh = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert_problem(refresh, 401, "token_revoked")
    checked = server_client.post(VALIDATE, {"token": tokens["access_token"]}, format="json")
    assert checked.json() == {"valid": False, "reason": "token_revoked"}


def test_an_erased_players_token_is_refused_even_before_its_revocation_is_heard(
    tokens, server_client
):
    # The database changed without the markers (another process's erasure, not yet published).
    Player.objects.filter(pk=tokens["player"]["id"]).update(erased_at=timezone.now())
    AuthSession.objects.update(revoked_at=None)
    clear_every_cache()

    assert_problem(bearer(tokens["access_token"]).get(EXPORT), 401, "token_revoked")
    checked = server_client.post(VALIDATE, {"token": tokens["access_token"]}, format="json")
    assert checked.json()["valid"] is False
    # Nor is its session refreshed (a login that raced the erasure opened it after the others
    # were revoked), and the refresh token is kept unused.
    refresh = APIClient().post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
    assert_problem(refresh, 401, "token_revoked")
    assert AuthSession.objects.get().tokens.get().retired_at is None


def test_logging_in_again_makes_a_new_player(
    alice, tokens, login, django_capture_on_commit_callbacks
):
    assert delete_account(alice, django_capture_on_commit_callbacks).status_code == 204

    again = login("alice")

    assert again["player"]["id"] != tokens["player"]["id"]
    assert bearer(again["access_token"]).get(EXPORT).json()["cloud_saves"] == []
    assert Player.objects.filter(display_name="alice").count() == 1


def test_erasing_again_is_a_no_op(tokens, operator, django_capture_on_commit_callbacks):
    player = player_of(tokens)
    with django_capture_on_commit_callbacks(execute=True):
        assert erase_player(player=player, actor=operator) is True
        assert erase_player(player=player, actor=operator) is False

    (entry,) = AuditLogEntry.objects.filter(action=ERASE_ACTION)
    assert entry.actor == operator and entry.after == {"erased_by": "operator"}


def test_a_banned_players_sessions_say_revoked_once_erased(
    tokens, operator, django_capture_on_commit_callbacks
):
    from apps.accounts.services.bans import ban_player

    player = player_of(tokens)
    with django_capture_on_commit_callbacks(execute=True):
        ban_player(player=player, reason="cheating", until=None, actor=operator)
    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=player, actor=operator)
    clear_every_cache()

    assert_problem(bearer(tokens["access_token"]).get(EXPORT), 401, "token_revoked")
    assert Player.objects.get(pk=player.pk).ban_reason == ""


def test_an_erased_player_is_off_the_leaderboard(
    game, tokens, operator, django_capture_on_commit_callbacks
):
    board = Board.objects.create(game=game, slug="high", name="High")
    other = Player.objects.create(game=game, display_name="bob")
    player = player_of(tokens)
    submit_score(board=board, player_id=player.pk, score=50, submission_id="a")
    submit_score(board=board, player_id=other.pk, score=10, submission_id="b")
    with django_capture_on_commit_callbacks(execute=True):
        erase_player(player=player, actor=operator)

    assert list(Entry.objects.values_list("player_id", flat=True)) == [other.pk]


@pytest.fixture
def operator(make_operator, game):
    return make_operator("olga", game, "operator")
