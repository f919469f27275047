"""Every destructive action of the panel asks first (docs/panel.md, "Actions ask first"): the
first POST changes nothing and answers a confirmation page that says what will happen to what;
only the POST its Confirm button sends acts, once, however often it is sent; an analyst gets 403
before any confirmation; the confirmation is CSRF-protected and carries the original fields."""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.test import Client, TestCase
from django.utils import timezone

from apps.accounts.models import AuthSession, Player
from apps.accounts.services.bans import ban_player
from apps.accounts.services.sessions import open_session
from apps.audit.models import AuditLogEntry
from apps.cloudsave.models import Document
from apps.cloudsave.services import Precondition, put_document
from apps.inventory import demo as inventory_demo
from apps.inventory.models import Currency, LedgerEntry
from apps.leaderboards.models import Board, BracketReward, Entry, Period
from apps.leaderboards.services.submit import submit_score
from apps.panel.models import SegmentAction
from apps.remoteconfig.models import ConfigRelease
from apps.remoteconfig.services import publish, set_key
from tests.panel.confirming import confirm, confirmation_fields, is_confirmation
from tests.panel.conftest import client_for
from tests.panel.test_purchase_refund import paid_purchase
from tests.payments.conftest import mocked_http, sandbox_callbacks  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@dataclass
class Case:
    """One destructive action, set up: where its form posts, what it sends, what the
    confirmation page must say, and a count of what it did (audit entries, rows)."""

    url: str
    form: dict
    says: list[str]
    done: Callable[[], int]
    once: int = 1  # what `done` reads after one action (a session's end is audited per session)
    back: str = ""  # where Cancel goes


def player_url(game, player, action: str = "") -> str:
    return f"/panel/games/{game.pk}/players/{player.pk}/{action}"


def audited(action: str) -> Callable[[], int]:
    return lambda: AuditLogEntry.objects.filter(action=action).count()


def ban(game, player, **_) -> Case:
    return Case(
        url=player_url(game, player, "ban"),
        form={"reason": "Cheating", "until": "2099-06-10T18:30"},
        says=[f"Ban {player}?", "is banned until 2099-06-10 18:30 UTC.", "“Cheating”"],
        done=audited("player.ban"),
        back=player_url(game, player),
    )


def revoke_sessions(game, player, **_) -> Case:
    for _ in range(2):
        open_session(player=player, platform="dev", now=timezone.now())
    return Case(
        url=player_url(game, player, "revoke-sessions"),
        form={"reason": "Stolen phone"},
        says=[f"End {player}'s sessions?", f"{player}'s 2 session(s) end at once"],
        done=audited("session.revoke"),
        once=2,
        back=player_url(game, player),
    )


def revoke_currency(game, player, operator, **_) -> Case:
    Currency.objects.create(game=game, code="gold", name="Gold")
    client_for(operator).post(
        player_url(game, player, "grant"),
        {"direction": "grant", "target": "currency:gold", "quantity": 100, "reason": "gift",
         "idempotency_key": "grant-1"},
    )  # fmt: skip
    return Case(
        url=player_url(game, player, "grant"),
        form={"direction": "revoke", "target": "currency:gold", "quantity": 30,
              "reason": "Duplicated reward", "idempotency_key": "revoke-1"},
        says=[f"Revoke 30 gold from {player}?", f"30 gold are taken from {player} through the "
              "ledger: 100 → 70."],
        done=lambda: LedgerEntry.objects.filter(delta__lt=0).count(),
        back=player_url(game, player),
    )  # fmt: skip


def restore_save(game, player, **_) -> Case:
    for value in ({"gold": 10}, {"gold": 0}):
        document = Document.objects.filter(player=player, key="slot1").first()
        put_document(
            player=player,
            key="slot1",
            value=value,
            precondition=Precondition(version=document.version)
            if document
            else Precondition(create_only=True),
            source="client",
            idempotency_key=None,
        )
    return Case(
        url=player_url(game, player, "restore-save"),
        form={"key": "slot1", "version": 1, "current": 2, "reason": "ticket 42"},
        says=[
            f"Restore slot1 of {player} to version 1?",
            f'{player}\'s slot1 becomes version 3, with the value of version 1: {{"gold": 10}}',
            "It replaces the value of version 2",
        ],
        done=audited("cloudsave.restore_version"),
        back=player_url(game, player),
    )


def refund(game, player, request, **_) -> Case:
    request.getfixturevalue("sandbox_callbacks")
    purchase = paid_purchase(game, player)
    return Case(
        url=f"/panel/games/{game.pk}/purchases/{purchase.pk}/refund",
        form={"reason": "asked by mail"},
        says=[
            "Refund purchase #",
            f"1.99 USD goes back to {player} for purchase",
            "Pile of gems",
            "what it granted (100 gems) is taken back",
        ],
        done=audited("payments.refund"),
        back=player_url(game, player),
    )


def leaderboard(game) -> tuple[Board, Period]:
    inventory_demo.seed(game)
    board = Board.objects.create(game=game, slug="weekly", name="Weekly", reset="weekly")
    BracketReward.objects.create(
        board=board, rank_from=1, rank_to=1, contents=[{"currency": "gold", "quantity": 5}]
    )
    for n, name in enumerate(["ana", "ben", "cy"]):
        scorer = Player.objects.create(game=game, display_name=name)
        submit_score(board=board, player_id=scorer.pk, score=10 * (n + 1), submission_id=name)
    return board, Period.objects.get(board=board, state="open")


def board_url(game, board, action: str = "") -> str:
    return f"/panel/games/{game.pk}/leaderboards/{board.pk}/{action}"


def end_period(game, **_) -> Case:
    board, period = leaderboard(game)
    return Case(
        url=board_url(game, board, "end-now"),
        form={"period": period.number, "reason": "finals"},
        says=[
            f"End period {period.number} of Weekly now?",
            "Its 3 entries become its final standings. Its 1 bracket reward(s) are paid",
            f"Period {period.number + 1} opens at once.",
        ],
        done=audited("leaderboard.end_period"),
        back=board_url(game, board),
    )


def remove_entry(game, **_) -> Case:
    board, period = leaderboard(game)
    ana = Player.objects.get(display_name="ana")
    return Case(
        url=board_url(game, board, "remove-entry"),
        form={"period": period.number, "player_id": ana.pk},
        says=[f"Remove ana's entry from period {period.number}?", "(rank 3, score 10)"],
        done=audited("leaderboard.remove_entry"),
        back=board_url(game, board),
    )


def config_url(game, action: str = "") -> str:
    return f"/panel/games/{game.pk}/config/{action}"


def delete_key(game, operator, **_) -> Case:
    client = client_for(operator)
    client.post(config_url(game, "set-key"), {"key": "speed", "value": "1.5"})
    client.post(
        config_url(game, "add-override"),
        {"key": "speed", "position": 0, "value": "2", "payer": "unknown", "rollout_percent": 100},
    )
    return Case(
        url=config_url(game, "delete-key"),
        form={"key": "speed"},
        says=["Delete the draft key speed?", "speed (default 1.5) and its 1 override(s)"],
        done=audited("remoteconfig.delete_key"),
        back=config_url(game),
    )


def delete_override(game, operator, **_) -> Case:
    client = client_for(operator)
    client.post(config_url(game, "set-key"), {"key": "speed", "value": "1.5"})
    client.post(
        config_url(game, "add-override"),
        {"key": "speed", "position": 3, "value": "2", "payer": "true", "platforms": "ios",
         "rollout_percent": 50},
    )  # fmt: skip
    override = game.config_keys.get().overrides.get()
    return Case(
        url=config_url(game, "delete-override"),
        form={"override_id": override.pk},
        says=[
            "Remove an override of speed?",
            "at position 3 that gives 2 to payers, on ios (50 %)",
        ],
        done=audited("remoteconfig.delete_override"),
        back=config_url(game),
    )


def rollback(game, operator, **_) -> Case:
    for value in ("1", "2"):
        set_key(game=game, actor=operator, key="speed", value=int(value))
        publish(game=game, actor=operator, note=f"speed {value}")
    return Case(
        url=config_url(game, "rollback"),
        form={"version": 1, "note": "too fast"},
        says=[
            "Roll back to version 1?",
            "Version 1's config goes live again as version 3, in place of version 2",
            "Keys that change for clients: speed.",
        ],
        done=audited("remoteconfig.rollback"),
        back=config_url(game),
    )


def segment_players(game) -> list[Player]:
    return Player.objects.bulk_create([Player(game=game, display_name=f"bot{n}") for n in range(3)])


def segment_ban(game, **_) -> Case:
    segment_players(game)
    return Case(
        url=f"/panel/games/{game.pk}/segment/",
        form={"kind": "ban", "reason": "bot wave", "idempotency_key": "seg-1", "q": "bot"},
        says=[
            "Ban 3 player(s)?",
            f"The 3 player(s) of {game.name} who match now (Search: bot)",
            "Each is banned until unbanned",
        ],
        done=lambda: SegmentAction.objects.filter(kind="ban").count(),
        back=f"/panel/games/{game.pk}/segment/?q=bot",
    )


def segment_revoke(game, **_) -> Case:
    Currency.objects.create(game=game, code="gold", name="Gold")
    segment_players(game)
    return Case(
        url=f"/panel/games/{game.pk}/segment/",
        form={"kind": "revoke", "target": "currency:gold", "quantity": 5, "reason": "dupe",
              "idempotency_key": "seg-2"},
        says=["Revoke 5 gold from 4 player(s)?", f"Every player of {game.name}: 4 now",
              "5 gold is taken from each through the ledger"],
        done=lambda: SegmentAction.objects.filter(kind="revoke").count(),
        back=f"/panel/games/{game.pk}/segment/",
    )  # fmt: skip


ACTIONS = {
    "ban": ban,
    "revoke-sessions": revoke_sessions,
    "revoke-currency": revoke_currency,
    "restore-save": restore_save,
    "refund": refund,
    "end-period": end_period,
    "remove-entry": remove_entry,
    "delete-key": delete_key,
    "delete-override": delete_override,
    "rollback": rollback,
    "segment-ban": segment_ban,
    "segment-revoke": segment_revoke,
}


@pytest.fixture(params=list(ACTIONS))
def case(request, game, player, operator) -> Case:
    return ACTIONS[request.param](game=game, player=player, operator=operator, request=request)


def text(response) -> str:
    return html.unescape(response.content.decode())


def post(client: Client, url: str, data: dict, **kwargs):
    # On-commit work (a refund's callback, a period's payouts) runs as after a real commit.
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data, **kwargs)


def test_the_first_post_changes_nothing_and_asks(operator_client, case):
    before = case.done()

    response = post(operator_client, case.url, case.form)

    assert case.done() == before == 0
    assert is_confirmation(response), response
    page = text(response)
    for fact in case.says:
        assert fact in page, fact
    assert page.count("<h1") == 1
    assert f'href="{case.back}" id="confirm-cancel">Cancel</a>' in page
    fields = confirmation_fields(response)
    assert fields["confirm"] == ["yes"]
    assert {name: [str(value)] for name, value in case.form.items()}.items() <= fields.items()


def test_the_confirmed_post_acts_once(operator_client, case):
    asked = post(operator_client, case.url, case.form)

    response = post(operator_client, case.url, confirmation_fields(asked))

    assert response.status_code == 302
    assert case.done() == case.once


def test_a_confirmation_sent_twice_acts_once(operator_client, case):
    fields = confirmation_fields(post(operator_client, case.url, case.form))

    first = post(operator_client, case.url, fields)
    again = post(operator_client, case.url, fields, follow=True)  # a double click

    assert first.status_code == 302 and again.status_code == 200
    assert not is_confirmation(again)
    assert case.done() == case.once


def test_an_analyst_gets_403_before_any_confirmation(analyst_client, operator_client, case):
    fields = confirmation_fields(post(operator_client, case.url, case.form))

    asked = post(analyst_client, case.url, case.form)
    confirmed = post(analyst_client, case.url, fields)

    assert asked.status_code == confirmed.status_code == 403
    assert not is_confirmation(asked)
    assert case.done() == 0


def test_the_confirmation_is_csrf_protected(operator, case):
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    client.get(case.back or "/panel/")  # the CSRF cookie, as a page the form is on sets it
    token = client.cookies["csrftoken"].value
    asked = post(client, case.url, {**case.form, "csrfmiddlewaretoken": token})
    fields = confirmation_fields(asked)
    page = asked.content.decode()
    assert 'name="csrfmiddlewaretoken"' in page[page.index('id="confirm-form"') :]

    forged = post(client, case.url, fields)  # from another site: no token

    assert forged.status_code == 403
    assert case.done() == 0
    assert post(client, case.url, {**fields, "csrfmiddlewaretoken": token}).status_code == 302
    assert case.done() == case.once


# The state a confirmation saw, where nothing else guards against a second action.


def test_a_ban_confirmed_after_another_operators_ban_changes_nothing(operator_client, game, player):
    case = ban(game, player)
    fields = confirmation_fields(post(operator_client, case.url, case.form))
    ban_player(player=player, reason="Botting", until=None, actor=None)

    response = post(operator_client, case.url, fields, follow=True)

    assert f"Nothing changed: {player}'s ban changed after you were asked" in text(response)
    player.refresh_from_db()
    assert player.ban_reason == "Botting"
    assert AuditLogEntry.objects.filter(action="player.ban").count() == 1  # the other one's


def test_a_ban_the_player_already_has_is_not_done_again(operator_client, game, player):
    ban_player(player=player, reason="Cheating", until=None, actor=None)

    response = confirm(operator_client, player_url(game, player, "ban"), {"reason": "Cheating"},
                       follow=True)  # fmt: skip

    assert f"Nothing changed: {player} is already banned so." in text(response)
    assert AuditLogEntry.objects.filter(action="player.ban").count() == 1


def test_a_ban_confirmed_without_the_state_it_saw_only_asks(operator_client, game, player):
    case = ban(game, player)

    response = post(operator_client, case.url, {**case.form, "confirm": "yes"})

    assert is_confirmation(response)
    player.refresh_from_db()
    assert player.banned_until is None


def test_a_rollback_confirmed_after_a_publish_changes_nothing(operator_client, game, operator):
    case = rollback(game, operator)
    fields = confirmation_fields(post(operator_client, case.url, case.form))
    publish(game=game, actor=operator, note="meanwhile")

    response = post(operator_client, case.url, fields, follow=True)

    assert "Nothing changed: Version 3 is live now, not version 2" in response.content.decode()
    assert ConfigRelease.objects.filter(game=game).count() == 3


# What does not ask.


def test_a_grant_and_an_unban_act_at_once(operator_client, game, player):
    Currency.objects.create(game=game, code="gold", name="Gold")
    ban_player(player=player, reason="Cheating", until=None, actor=None)

    granted = operator_client.post(
        player_url(game, player, "grant"),
        {"direction": "grant", "target": "currency:gold", "quantity": 5, "reason": "gift",
         "idempotency_key": "g"},
    )  # fmt: skip
    unbanned = operator_client.post(player_url(game, player, "unban"), {"reason": "appeal"})

    assert granted.status_code == unbanned.status_code == 302
    assert LedgerEntry.objects.get().delta == 5
    player.refresh_from_db()
    assert player.banned_until is None


def test_a_refused_form_is_refused_before_any_confirmation(operator_client, game, player):
    response = operator_client.post(player_url(game, player, "ban"), {"reason": ""}, follow=True)

    assert not is_confirmation(response)
    assert "Nothing changed" in response.content.decode()


def test_a_removed_entry_confirmed_again_says_so(operator_client, game, player, operator):
    case = remove_entry(game)
    fields = confirmation_fields(post(operator_client, case.url, case.form))
    post(operator_client, case.url, fields)

    again = post(operator_client, case.url, fields, follow=True)

    assert "has no entry in period" in again.content.decode()
    assert Entry.objects.count() == 2


def test_ending_sessions_confirmed_twice_ends_the_sessions_once(operator_client, game, player):
    case = revoke_sessions(game, player)
    fields = confirmation_fields(post(operator_client, case.url, case.form))
    post(operator_client, case.url, fields, follow=True)

    again = post(operator_client, case.url, fields, follow=True)

    shown = [str(message) for message in again.context["messages"]]
    assert shown == [f"{player} had no session left to end; nothing changed."]
    assert not AuthSession.objects.filter(player=player, revoked_at__isnull=True).exists()
