"""Defining boards in the admin: a board's ranking rules stay as they are once it holds entries
(the entries were ranked, score x order, and its open period windowed by them); a stat board
names a declared stat; a bracket grants only what the game defines."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.inventory import demo as inventory_demo
from apps.leaderboards.models import Board, BracketReward, Entry, Payout
from apps.leaderboards.schedule import window_at
from apps.leaderboards.selectors import boards_with_history, holds_entries
from apps.leaderboards.services.periods import close_due_periods, close_period, open_period
from apps.leaderboards.services.submit import submit_score
from apps.stats.models import StatDefinition
from tests.leaderboards.conftest import current
from tests.leaderboards.helpers import scores

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator_client(game) -> Client:
    user = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OPERATOR)
    client = Client()
    client.force_login(user)
    return client


def change_url(board: Board) -> str:
    return f"/admin/leaderboards/board/{board.pk}/change/"


def form_as_shown(client: Client, board: Board) -> dict[str, Any]:
    """The change form's fields with the values it shows, and its inlines' management forms."""
    response = client.get(change_url(board))
    assert response.status_code == 200
    form = response.context["adminform"].form
    data: dict[str, Any] = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        for name in management.fields:
            data[f"{management.prefix}-{name}"] = management.initial.get(name, 0)
    return data


def test_a_board_without_entries_can_change_its_rules(operator_client, board):
    data = form_as_shown(operator_client, board)
    data.update(order=Board.Order.LOWER, operator=Board.Operator.SUM, reset=Board.Reset.DAILY)

    response = operator_client.post(change_url(board), data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    board.refresh_from_db()
    assert (board.order, board.operator, board.reset) == ("lower", "sum", "daily")


def test_a_board_with_entries_keeps_its_rules_and_says_why(operator_client, board, player):
    submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
    before = {name: getattr(board, name) for name in ("source", "order", "operator", "reset")}

    shown = operator_client.get(change_url(board))
    data = form_as_shown(operator_client, board)
    assert "order" not in data and "reset" not in data  # not fields of the form any more
    data.update(name="Renamed", order=Board.Order.LOWER, reset=Board.Reset.DAILY)
    response = operator_client.post(change_url(board), data)

    assert "holds scores" in shown.content.decode()
    assert response.status_code == 302
    board.refresh_from_db()
    assert board.name == "Renamed"
    assert {name: getattr(board, name) for name in before} == before


def test_a_bracket_naming_what_the_game_does_not_define_is_refused(board, game):
    inventory_demo.seed(game)  # gold, gems, potion …
    bracket = BracketReward(
        board=board,
        position=1,
        rank_from=1,
        rank_to=1,
        contents=[{"currency": "gold", "quantity": 5}, {"currency": "glod", "quantity": 5},
                  {"sku": "potion", "quantity": 1}, {"sku": "poton", "quantity": 1}],
    )  # fmt: skip

    with pytest.raises(ValidationError) as refused:
        bracket.full_clean()

    assert refused.value.message_dict["contents"] == ["This game has no currency glod, item poton."]
    bracket.contents = [{"currency": "gold", "quantity": 5}, {"sku": "potion", "quantity": 1}]
    bracket.full_clean()  # what the game defines passes


def test_a_stat_board_names_a_stat_the_game_declares(game, other_game):
    board = Board(game=game, slug="kills", name="Kills", source=Board.Source.STAT, stat_key="kills")
    StatDefinition.objects.create(game=other_game, key="kills", name="Kills")  # not this game's

    with pytest.raises(ValidationError) as refused:
        board.full_clean()

    assert "declares no stat 'kills'" in refused.value.message_dict["stat_key"][0]
    StatDefinition.objects.create(game=game, key="kills", name="Kills")
    board.full_clean()


def test_the_bracket_inline_offers_only_this_games_periods(
    operator_client, board, make_board, other_game
):
    from apps.leaderboards.services.periods import open_period

    theirs = make_board("secret-cup", game=other_game)
    open_period(board=board)
    open_period(board=theirs)

    response = operator_client.get(change_url(board))

    [brackets] = [
        inline for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is BracketReward
    ]  # fmt: skip
    offered = brackets.formset.empty_form.fields["period"].queryset
    assert offered.exists()
    assert {period.board.game_id for period in offered} == {board.game_id}
    assert "Secret-Cup" not in response.content.decode()


def test_the_admin_removes_entries_of_open_periods_and_keeps_closed_standings(
    operator_client, board, player
):
    closed = open_period(board=board)
    submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
    close_period(period_id=closed.pk)
    submit_score(board=board, player_id=player.pk, score=20, submission_id="s2")
    final, live = Entry.objects.get(period=closed), Entry.objects.get(period__state="open")

    response = operator_client.post(
        "/admin/leaderboards/entry/",
        {"action": "remove_entries", "_selected_action": [final.pk, live.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert list(Entry.objects.values_list("pk", flat=True)) == [final.pk]
    assert "Kept 1 entr(ies) of closed periods" in response.content.decode()


def test_a_removal_that_finds_its_entry_removed_meanwhile_changes_nothing(board, player):
    """The same removal confirmed twice at once: the second waits on the period's lock, then
    finds the entry gone. It answers False and records nothing (it raised DoesNotExist: a 500)."""
    from apps.audit.models import AuditLogEntry
    from apps.leaderboards.services.entries import remove_entry

    submit_score(board=board, player_id=player.pk, score=10, submission_id="s1")
    entry = Entry.objects.get(player=player)
    first_copy, second_copy = Entry.objects.get(pk=entry.pk), Entry.objects.get(pk=entry.pk)

    assert remove_entry(entry=first_copy, actor=None, reason="twice") is True
    assert remove_entry(entry=second_copy, actor=None, reason="twice") is False

    assert not Entry.objects.filter(pk=entry.pk).exists()
    assert AuditLogEntry.objects.filter(action="leaderboard.remove_entry").count() == 1


def test_a_board_without_entries_that_changes_its_reset_moves_its_open_period(
    operator_client, board
):
    assert board.reset == Board.Reset.NEVER
    period = open_period(board=board)  # a read opened it, under "never": no end
    assert period.ends_at is None
    data = form_as_shown(operator_client, board)
    data.update(reset=Board.Reset.WEEKLY)

    response = operator_client.post(change_url(board), data)

    assert response.status_code == 302
    period.refresh_from_db()
    board.refresh_from_db()
    assert period.state == "open" and period.ends_at is not None
    assert period.ends_at == window_at(board, timezone.now()).ends_at
    assert close_due_periods(now=period.ends_at) == 1  # the weekly tournament ends and pays


def add_form_with_bracket(client: Client, game, **bracket: object) -> dict[str, Any]:
    response = client.get("/admin/leaderboards/board/add/")
    assert response.status_code == 200
    data: dict[str, Any] = {}
    form = response.context["adminform"].form
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if value is not None:
            data[name] = value
    data.update(game=game.pk, slug="cup", name="Cup", reset=Board.Reset.WEEKLY)
    [inline] = [
        inline for inline in response.context["inline_admin_formsets"]
        if inline.formset.model is BracketReward
    ]  # fmt: skip
    prefix = inline.formset.prefix
    data.update({f"{prefix}-TOTAL_FORMS": 1, f"{prefix}-INITIAL_FORMS": 0})
    row = {"position": 1, "rank_from": 1, "rank_to": 1, **bracket}
    data.update({f"{prefix}-0-{name}": value for name, value in row.items()})
    return data


def test_a_bracket_granting_more_than_a_player_may_hold_is_refused(board, game):
    """The potion stacks to 99: a prize of 60 + 60 potions would fail every payout."""
    inventory_demo.seed(game)
    bracket = BracketReward(
        board=board,
        position=1,
        rank_from=1,
        rank_to=1,
        contents=[{"sku": "potion", "quantity": 60}, {"sku": "potion", "quantity": 60}],
    )

    with pytest.raises(ValidationError) as refused:
        bracket.full_clean()

    assert "120 potion, above what a player may hold (99)" in str(refused.value.message_dict)
    bracket.contents = [{"sku": "potion", "quantity": 99}]
    bracket.full_clean()  # up to the stack: taken


def test_the_add_form_checks_its_brackets_against_the_games_codes(operator_client, game):
    inventory_demo.seed(game)
    data = add_form_with_bracket(
        operator_client, game, contents='[{"currency": "glod", "quantity": 5}]'
    )

    refused = operator_client.post("/admin/leaderboards/board/add/", data)

    assert refused.status_code == 200  # the form again, with the error
    assert "This game has no currency glod" in refused.content.decode()
    assert not Board.objects.filter(slug="cup").exists() and not BracketReward.objects.exists()
    data = add_form_with_bracket(
        operator_client, game, contents='[{"currency": "gold", "quantity": 5}]'
    )
    assert operator_client.post("/admin/leaderboards/board/add/", data).status_code == 302
    assert BracketReward.objects.get().board.slug == "cup"


def test_a_new_boards_bracket_cannot_name_another_boards_period(operator_client, game, board):
    inventory_demo.seed(game)
    theirs = open_period(board=board)
    data = add_form_with_bracket(
        operator_client, game, contents='[{"currency": "gold", "quantity": 5}]', period=theirs.pk
    )

    refused = operator_client.post("/admin/leaderboards/board/add/", data)

    assert refused.status_code == 200 and "A period of this board." in refused.content.decode()
    assert not BracketReward.objects.exists()


def test_a_board_that_was_only_read_is_deleted_with_its_empty_periods(operator_client, board):
    open_period(board=board)  # what the first read does
    page = operator_client.get(f"/admin/leaderboards/board/{board.pk}/delete/")
    assert page.status_code == 200 and not page.context["perms_lacking"]

    deleted = operator_client.post(f"/admin/leaderboards/board/{board.pk}/delete/", {"post": "yes"})

    assert deleted.status_code == 302
    assert not Board.objects.filter(pk=board.pk).exists()


def test_a_board_with_scores_is_kept_and_the_page_says_why(operator_client, board, player):
    submit_score(board=board, player_id=player.pk, score=5, submission_id="one")

    for response in (
        operator_client.post(f"/admin/leaderboards/board/{board.pk}/delete/", {"post": "yes"}),
        operator_client.post(
            "/admin/leaderboards/board/",
            {"action": "delete_selected", "_selected_action": [board.pk], "post": "yes"},
        ),
    ):
        assert response.status_code == 200
        assert "holds scores or payouts" in response.content.decode()
    assert Entry.objects.filter(period__board=board).count() == 1


def delete_page_queries(client: Client, board: Board) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        page = client.get(f"/admin/leaderboards/board/{board.pk}/delete/")
    assert page.status_code == 200
    assert "holds scores or payouts" in page.content.decode()
    return [query["sql"] for query in captured.captured_queries]


def test_the_refusal_reads_none_of_the_boards_rows_however_many(
    operator_client, make_board, make_players, django_assert_max_num_queries
):
    """Django's collector loaded every row a board's delete would cascade to (2M entries: 105 s
    and 3.9 GB) to list them on a page that refuses the delete: the history is checked first,
    a few index reads per board, and the refusal answers without the collector."""
    small, large = make_board("small"), make_board("large")
    players = make_players(40)
    scores(small, [(players[0], 1)])
    scores(large, [(p, n) for n, p in enumerate(players)], prefix="l")
    close_period(period_id=current(large).pk)  # a closed period of entries and submissions too
    scores(large, [(p, n) for n, p in enumerate(players)], prefix="m")

    few = delete_page_queries(operator_client, small)
    with django_assert_max_num_queries(len(few)):
        many = delete_page_queries(operator_client, large)

    reads_rows = re.compile(r'^SELECT [^()]*? FROM "leaderboards_(entry|submission|payout)"')
    assert [sql for sql in many if reads_rows.match(sql)] == []
    refused = operator_client.post(f"/admin/leaderboards/board/{large.pk}/delete/", {"post": "yes"})
    assert "holds scores or payouts" in refused.content.decode()
    assert Entry.objects.filter(period__board=large).count() == 80


def test_history_is_found_by_each_kind_of_row(make_board, make_players):
    boards = {name: make_board(name) for name in ("empty", "entry", "server", "client", "paid")}
    player, other = make_players(2)
    for board in boards.values():
        open_period(board=board)
    scores(boards["entry"], [(player, 1)])
    for name, from_client in (("server", False), ("client", True)):
        board = boards[name]
        board.allow_client_submissions = from_client
        board.save()
        submit_score(
            board=board, player_id=player.pk, score=1, submission_id="s", from_client=from_client
        )
        Entry.objects.filter(period__board=board).delete()  # removed by an operator since
    paid = open_period(board=boards["paid"])
    Payout.objects.create(period=paid, player=other, rank=1, score=1)

    held = boards_with_history(list(boards.values()))

    assert held == {boards[name].pk for name in ("entry", "server", "client", "paid")}
    assert holds_entries(boards["entry"]) and not holds_entries(boards["server"])
