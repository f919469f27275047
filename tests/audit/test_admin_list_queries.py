"""The audit log's admin list reads one page of a big table (no date drill-down, no distinct
actions, no total beside the filtered count), its search compares indexed columns as stored,
and a row's trail (the player page's) is read by its own index."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from apps.accounts.models import GameAccess, Player
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.audit.selectors import actions_on
from apps.audit.services import record_action

URL = "/admin/audit/auditlogentry/"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def owner(db, game):
    user = get_user_model().objects.create_user("olivia", password="pw-long-enough-1")
    set_game_access(user=user, game=game, role=GameAccess.Role.OWNER)
    return user


@pytest.fixture
def owner_client(client, owner):
    client.force_login(owner)
    return client


@pytest.fixture
def entries(owner, game, player):
    other = Player.objects.create(game=game, display_name="mallory")
    other_owner = get_user_model().objects.create_user("oscar", password="pw-long-enough-1")
    return [
        record_action(actor=owner, game=game, action="player.ban", target=player, reason="x"),
        record_action(actor=owner, game=game, action="player.unban", target=player),
        record_action(actor=other_owner, game=game, action="player.ban", target=other),
        record_action(actor=owner, game=game, action="custom.action", target=other),
    ]


def log_queries(client, url: str) -> tuple[list[str], list[AuditLogEntry]]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    sent = [query["sql"] for query in captured.captured_queries]
    return [sql for sql in sent if "audit_auditlogentry" in sql], list(
        response.context["cl"].result_list
    )


def test_the_list_reads_no_dates_no_distinct_actions_and_one_count(owner_client, entries):
    queries, shown = log_queries(owner_client, URL)

    assert len(shown) == len(entries)
    # The actions' distinct values, the date drill-down's distinct days and its first and last.
    assert [sql for sql in queries if "DISTINCT" in sql.upper() or "MIN(" in sql] == []
    assert len([sql for sql in queries if "COUNT(" in sql]) == 1  # no second, full count


def test_a_number_finds_what_was_done_to_that_id_by_its_column(owner_client, entries, player):
    queries, shown = log_queries(owner_client, f"{URL}?q={player.pk}")

    assert {entry.pk for entry in shown} == {entries[0].pk, entries[1].pk}
    searched = [sql for sql in queries if "COUNT(" in sql or "LIMIT" in sql]
    assert searched
    for sql in searched:
        assert f'"audit_auditlogentry"."target_id" = \'{player.pk}\'' in sql
        assert "UPPER(" not in sql and "LIKE" not in sql


def test_text_finds_an_operators_entries_by_the_whole_username(owner_client, entries, owner):
    _, exact = log_queries(owner_client, f"{URL}?q={owner.username}")
    _, part = log_queries(owner_client, f"{URL}?q={owner.username[:3]}")

    assert {entry.pk for entry in exact} == {entries[0].pk, entries[1].pk, entries[3].pk}
    assert part == []


def test_the_action_filter_offers_fixed_actions_and_any_action_still_filters(owner_client, entries):
    response = owner_client.get(URL)
    [actions] = [spec for spec in response.context["cl"].filter_specs if spec.title == "action"]
    offered = [choice["display"] for choice in actions.choices(response.context["cl"])][1:]
    assert {"player.ban", "inventory.grant", "login_locked_out"} <= set(offered)
    assert "custom.action" not in offered  # not read from the table

    _, bans = log_queries(owner_client, f"{URL}?action__exact=player.ban")
    _, unlisted = log_queries(owner_client, f"{URL}?action__exact=custom.action")

    assert {entry.pk for entry in bans} == {entries[0].pk, entries[2].pk}
    assert [entry.pk for entry in unlisted] == [entries[3].pk]


def recorded_actions() -> tuple[set[str], set[str]]:
    """The actions the apps record (record_action, announce_action, the audit app's own
    create), as written: constants, names assigned a constant in the module, and the constant
    start of one built with an f-string (the second set)."""
    actions: set[str] = set()
    starts: set[str] = set()
    for path in (ROOT / "apps").rglob("*.py"):
        if "migrations" in path.parts:
            continue
        tree = ast.parse(path.read_text())
        constants = {
            target.id: written(node.value, {})[0]
            for node in ast.walk(tree)
            if isinstance(node, ast.Assign)
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        recorders = {"record_action", "announce_action"} | (
            {"create"} if "audit" in path.parts else set()
        )
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and getattr(node.func, "id", getattr(node.func, "attr", "")) in recorders
            ):
                for keyword in node.keywords:
                    if keyword.arg == "action":
                        found, begun = written(keyword.value, constants)
                        actions |= found
                        starts |= begun
    return actions, starts


def written(node: ast.AST, constants: dict[str, set[str]]) -> tuple[set[str], set[str]]:
    """The strings an action expression can be, and the starts of its f-strings."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}, set()
    if isinstance(node, ast.Name):
        return constants.get(node.id, set()), set()
    if isinstance(node, ast.IfExp):
        (body, body_starts), (other, other_starts) = (
            written(node.body, constants),
            written(node.orelse, constants),
        )
        return body | other, body_starts | other_starts
    if isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
        return set(), {str(node.values[0].value)}
    return set(), set()


def test_the_action_filter_offers_every_action_the_apps_record():
    from apps.audit.admin import ACTIONS
    from apps.panel.models import SegmentAction

    offered = {value for value, _ in ACTIONS}
    actions, starts = recorded_actions()

    assert {"inventory.grant", "login_failed", "payments.refund"} <= actions  # the scan finds them
    assert actions - offered == set()
    assert starts == {"segment."}  # f"segment.{kind}"
    assert {f"segment.{kind}" for kind in SegmentAction.Kind.values} <= offered
    assert {"admin_add", "admin_change", "admin_delete"} <= offered  # GameScopedAdmin's


def test_the_trail_index_is_in_the_database(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "audit_auditlogentry")

    assert constraints["audit_target_trail"]["columns"] == [
        "target_id",
        "target_type",
        "game_id",
        "created_at",
    ]
    assert constraints["audit_actor_recent"]["columns"] == ["actor_name", "created_at"]


@pytest.mark.postgres
def test_a_players_trail_is_read_by_its_index(owner, game, player):
    for n in range(30):
        record_action(actor=owner, game=game, action="player.ban", target=player, reason=str(n))
    AuditLogEntry.objects.bulk_create(
        AuditLogEntry(actor_name="x", game=game, action="a", target_type="t", target_id=str(n))
        for n in range(300)
    )
    trail = AuditLogEntry.objects.filter(
        game_id=game.pk, target_type=player._meta.label_lower, target_id=str(player.pk)
    ).order_by("-created_at", "-id")[:20]
    sql, params = trail.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE audit_auditlogentry")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "audit_target_trail" in plan, plan
    assert len(actions_on(game_id=game.pk, target=player, limit=20)) == 20
