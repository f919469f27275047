"""A player's own documents: versions, preconditions, ETags, deletes, batches, limits."""

from __future__ import annotations

import json
import re

import pytest
from django.db import connection

from apps.cloudsave.api import IF_MATCH_PATTERN
from apps.cloudsave.models import (
    MAX_VERSIONS_KEPT,
    Document,
    DocumentVersion,
    SaveKey,
    SaveSettings,
    SaveUsage,
)
from apps.cloudsave.services import encoded_size
from gamingpanel.shortcache import clear_every_cache
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db
IF_MATCH = re.compile(IF_MATCH_PATTERN)


def test_create_only_makes_version_one_with_its_etag(alice, player):
    response = create(alice, "slot1", {"level": 3, "name": "Ünïcode"})

    assert response.status_code == 201
    assert response["ETag"] == '"1"'
    body = response.json()
    assert body["key"] == "slot1" and body["version"] == 1
    assert body["value"] == {"level": 3, "name": "Ünïcode"}
    document = Document.objects.get(player=player, key="slot1")
    assert document.size == encoded_size(body["value"])
    assert SaveUsage.objects.get(player=player).bytes == document.size


def test_get_one_answers_etag_and_304_when_the_device_is_current(alice):
    create(alice, "slot1", {"a": 1})

    response = alice.get(f"{URL}/slot1")
    assert response.status_code == 200 and response["ETag"] == '"1"'
    assert response.json()["value"] == {"a": 1}

    again = alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"1"')
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == '"1"'
    # As a proxy may send it: weakened, or in a list.
    assert alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='W/"1"').status_code == 304
    assert alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"0", "1"').status_code == 304
    assert alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"0"').status_code == 200


def test_a_documents_answers_are_never_shared_between_callers_by_a_cache(alice, player):
    created = create(alice, "slot1", {"a": 1})
    read = alice.get(f"{URL}/slot1")
    not_modified = alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"1"')
    listed = alice.get(URL)
    listed_public = alice.get(f"/api/v1/saves/public/{player.pk}")

    # Every player's first version is "1" under the same URL: a browser must revalidate each
    # time and keep one account's copy from answering another's. The lists are one URL for
    # every player too.
    for response in (created, read, not_modified, listed, listed_public):
        assert response["Cache-Control"] == "private, no-cache"
        vary = {name.strip().lower() for name in response["Vary"].split(",")}
        assert {"authorization", "x-server-key"} <= vary


def test_head_answers_as_get_does_its_304_included(alice):
    create(alice, "slot1", {"a": 1})

    head = alice.head(f"{URL}/slot1")
    assert head.status_code == 200 and head["ETag"] == '"1"' and head.content == b""
    current = alice.head(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"1"')
    assert current.status_code == 304 and current["ETag"] == '"1"'
    assert alice.head(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"0"').status_code == 200


def test_put_with_the_current_version_raises_it(alice):
    create(alice, "slot1", {"a": 1})

    response = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 200
    assert response["ETag"] == '"2"'
    assert response.json()["version"] == 2
    assert alice.get(f"{URL}/slot1").json()["value"] == {"a": 2}


def test_stale_put_is_412_with_the_current_document_and_changes_nothing(alice, player):
    create(alice, "slot1", {"a": 1})
    put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"')

    response = put(alice, "slot1", {"a": "lost?"}, HTTP_IF_MATCH='"1"')

    assert response.status_code == 412
    assert response["Content-Type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "precondition_failed"
    assert problem["current"]["version"] == 2 and problem["current"]["value"] == {"a": 2}
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (2, {"a": 2})
    assert DocumentVersion.objects.filter(document=document).count() == 2


def test_create_only_on_an_existing_document_is_412_with_it(alice):
    create(alice, "slot1", {"a": 1})

    response = create(alice, "slot1", {"b": 1})

    assert response.status_code == 412
    assert response.json()["current"]["value"] == {"a": 1}


def test_if_match_on_a_missing_document_is_412_with_current_null(alice):
    response = put(alice, "nothing", {"a": 1}, HTTP_IF_MATCH='"4"')

    assert response.status_code == 412
    assert response.json()["current"] is None
    assert not Document.objects.exists()


@pytest.mark.parametrize(
    ("headers", "status", "code"),
    [
        ({}, 428, "precondition_required"),
        # A header sent empty names no version: refused, not taken as not sent.
        ({"HTTP_IF_MATCH": ""}, 400, "invalid_precondition"),
        ({"HTTP_IF_NONE_MATCH": " "}, 400, "invalid_precondition"),
        ({"HTTP_IF_MATCH": "", "HTTP_IF_NONE_MATCH": "*"}, 400, "invalid_precondition"),
        ({"HTTP_IF_MATCH": "abc"}, 400, "invalid_precondition"),
        ({"HTTP_IF_MATCH": '"0"'}, 400, "invalid_precondition"),
        ({"HTTP_IF_NONE_MATCH": '"3"'}, 400, "invalid_precondition"),
        ({"HTTP_IF_MATCH": '"1"', "HTTP_IF_NONE_MATCH": "*"}, 400, "invalid_precondition"),
        ({"HTTP_IF_NONE_MATCH": "*", "HTTP_IDEMPOTENCY_KEY": " "}, 400, "idempotency_key_required"),
    ],
)
def test_bad_preconditions_are_refused_with_codes(alice, headers, status, code):
    response = put(alice, "slot1", {"a": 1}, **headers)

    assert response.status_code == status
    assert response.json()["code"] == code
    assert not Document.objects.exists()


# What the schema publishes for If-Match (IF_MATCH_PATTERN) is what the server reads: the ETag,
# weak or bare, and nothing else. Schemathesis sent `0` as valid while the server refused it.
@pytest.mark.parametrize("if_match", ['"1"', 'W/"1"', "1", ' "1" '])
def test_if_match_takes_the_etag_weak_or_bare(alice, if_match):
    create(alice, "slot1", {"a": 1})

    response = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH=if_match)

    assert response.status_code == 200 and response.json()["version"] == 2
    assert IF_MATCH.fullmatch(if_match.strip(" \t"))  # the schema takes it too


@pytest.mark.parametrize(
    "if_match",
    ["0", '"0"', "01", '"01"', '""1""', '"1', '1"', "W/", "1.0", '"1"\x0b', "1234567890"],
)
def test_an_if_match_the_schema_refuses_is_400(alice, if_match):
    create(alice, "slot1", {"a": 1})

    response = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH=if_match)

    assert (response.status_code, response.json()["code"]) == (400, "invalid_precondition")
    assert alice.get(f"{URL}/slot1").json()["version"] == 1
    assert IF_MATCH.fullmatch(if_match.strip(" \t")) is None  # the schema refuses it too


@pytest.mark.parametrize(
    ("key", "body", "code"),
    [
        ("bad key!", {"value": 1}, "invalid_save_key"),
        ("k" * 65, {"value": 1}, "invalid_save_key"),
        ("%2E", {"value": 1}, "invalid_save_key"),  # "." as a client that escapes it sends it
        ("slot1", {"value": None}, "validation_error"),
        ("slot1", {}, "validation_error"),
        ("slot1", [1, 2], "validation_error"),
    ],
)
def test_bad_input_is_a_problem_and_stores_nothing(alice, key, body, code):
    response = alice.put(f"{URL}/{key}", body, format="json", HTTP_IF_NONE_MATCH="*")

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not Document.objects.exists() and not SaveUsage.objects.exists()


@pytest.mark.parametrize("key", ["slot1%0A", "slot1%0D", "%20slot1"])
def test_a_path_key_with_a_line_break_or_space_is_invalid(alice, key):
    response = alice.put(f"{URL}/{key}", {"value": 1}, format="json", HTTP_IF_NONE_MATCH="*")

    assert (response.status_code, response.json()["code"]) == (400, "invalid_save_key")
    assert not Document.objects.exists()


# PostgreSQL's jsonb stores no U+0000, and a lone surrogate is no UTF-8: both were a 500.
@pytest.mark.parametrize(
    "body",
    [
        '{"value": "a\\u0000b"}',
        '{"value": {"k\\u0000": 1}}',
        '{"value": [[{"deep": ["\\u0000"]}]]}',
        '{"value": "\\ud800"}',
        '{"value": {"\\udfff": true}}',
    ],
)
def test_a_value_with_a_character_the_database_cannot_store_is_422(alice, player, body):
    response = alice.put(
        f"{URL}/slot1", body, content_type="application/json", HTTP_IF_NONE_MATCH="*"
    )

    assert (response.status_code, response.json()["code"]) == (422, "unsupported_character")
    batch = alice.post(
        URL, f'{{"writes": [{{"key": "b", {body[1:-1]}}}]}}', content_type="application/json"
    )
    assert (batch.status_code, batch.json()["code"]) == (422, "unsupported_character")
    assert not Document.objects.exists() and not SaveUsage.objects.exists()


def test_other_control_characters_and_escapes_are_stored_as_sent(alice):
    value = {"tab\t": "\u0001\u001f\\u0000", "emoji": "\U0001f600"}

    assert create(alice, "slot1", value).status_code == 201
    assert alice.get(f"{URL}/slot1").json()["value"] == value


def test_malformed_json_is_a_problem(alice):
    response = alice.put(
        f"{URL}/slot1", b"{nope", content_type="application/json", HTTP_IF_NONE_MATCH="*"
    )

    assert response.status_code == 400 and response.json()["code"] == "malformed_json"


@pytest.mark.parametrize("number", ["1e400", "-1E+999"])
def test_a_number_past_the_largest_float_is_malformed_json_and_stores_nothing(
    alice, player, number
):
    created = alice.put(
        f"{URL}/slot1",
        f'{{"value": {{"gold": {number}}}}}'.encode(),
        content_type="application/json",
        HTTP_IF_NONE_MATCH="*",
    )

    assert (created.status_code, created.json()["code"]) == (400, "malformed_json")
    assert not Document.objects.exists() and not SaveUsage.objects.exists()


def test_delete_leaves_a_tombstone_whose_version_the_next_create_continues(alice, player):
    create(alice, "slot1", {"a": 1})

    deleted = alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"')
    assert deleted.status_code == 204
    assert alice.get(f"{URL}/slot1").json()["code"] == "save_not_found"
    assert alice.get(URL).json() == []
    assert SaveUsage.objects.get(player=player).bytes == 0

    again = create(alice, "slot1", {"a": 3})
    assert again.status_code == 201 and again.json()["version"] == 3


def test_delete_needs_if_match_and_the_current_version(alice):
    create(alice, "slot1", {"a": 1})

    assert alice.delete(f"{URL}/slot1").json()["code"] == "precondition_required"
    stale = alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"7"')
    assert stale.status_code == 412 and stale.json()["current"]["version"] == 1
    assert alice.get(f"{URL}/slot1").status_code == 200


def test_a_delete_of_a_key_never_synced_sends_if_none_match(alice):
    nothing = alice.delete(f"{URL}/slot1", HTTP_IF_NONE_MATCH="*")
    create(alice, "slot1", {"a": 1})  # another device created it meanwhile
    made_elsewhere = alice.delete(f"{URL}/slot1", HTTP_IF_NONE_MATCH="*")

    assert (nothing.status_code, nothing.json()["code"]) == (404, "save_not_found")
    assert made_elsewhere.status_code == 412
    assert made_elsewhere.json()["current"]["value"] == {"a": 1}
    assert alice.get(f"{URL}/slot1").status_code == 200  # nothing deleted


def test_list_answers_every_live_document_by_key(alice):
    create(alice, "b-slot", [1, 2])
    create(alice, "a-slot", "text")

    body = alice.get(URL).json()

    assert [(d["key"], d["version"], d["value"]) for d in body] == [
        ("a-slot", 1, "text"),
        ("b-slot", 1, [1, 2]),
    ]
    assert set(body[0]) == {"key", "version", "value", "updated_at"}


def test_batch_writes_all_at_once(alice):
    create(alice, "progress", {"chapter": 1})

    response = alice.post(
        URL,
        {
            "writes": [
                {"key": "progress", "value": {"chapter": 2}, "version": 1},
                {"key": "settings", "value": {"music": 0.5}},
            ]
        },
        format="json",
    )

    assert response.status_code == 200
    saves = response.json()["saves"]
    assert [(d["key"], d["version"]) for d in saves] == [("progress", 2), ("settings", 1)]


def test_a_stale_batch_writes_nothing_and_names_every_conflict(alice, player):
    create(alice, "progress", {"chapter": 1})
    create(alice, "settings", {"music": 1})

    response = alice.post(
        URL,
        {
            "writes": [
                {"key": "fresh", "value": 1},
                {"key": "progress", "value": {"chapter": 9}, "version": 1},
                {"key": "settings", "value": {}},  # create only, but it exists
            ]
        },
        format="json",
    )

    assert response.status_code == 412
    conflicts = response.json()["conflicts"]
    assert [c["key"] for c in conflicts] == ["settings"]
    assert conflicts[0]["current"]["value"] == {"music": 1}
    assert not Document.objects.filter(key="fresh").exists()
    assert Document.objects.get(player=player, key="progress").version == 1


@pytest.mark.parametrize(
    "writes",
    [
        [],
        [{"key": "a", "value": 1}, {"key": "a", "value": 2}],
        [{"key": "bad key", "value": 1}],
        [{"key": f"k{n}", "value": n} for n in range(26)],
        [{"key": "a", "value": 1, "version": 0}],
        # A key as sent: not "0" for 0, not "a" for "a\n" or " a".
        [{"key": 0, "value": 1}],
        [{"key": "a\n", "value": 1}],
        [{"key": " a", "value": 1}],
        # URLs resolve these away: such a document could never be read or deleted on its own.
        [{"key": ".", "value": 1}],
        [{"key": "..", "value": 1}],
    ],
)
def test_bad_batches_are_validation_errors(alice, writes):
    response = alice.post(URL, {"writes": writes}, format="json")

    assert response.status_code == 400 and response.json()["code"] == "validation_error"
    assert not Document.objects.exists()


def test_history_keeps_the_games_last_n_versions(alice, player, game):
    SaveSettings.objects.create(game=game, versions_kept=3)
    create(alice, "slot1", 1)
    for version in range(1, 6):
        put(alice, "slot1", version + 1, HTTP_IF_MATCH=f'"{version}"')

    kept = DocumentVersion.objects.filter(document__player=player).order_by("version")
    assert [(v.version, v.value, v.source) for v in kept] == [
        (4, 4, "player"),
        (5, 5, "player"),
        (6, 6, "player"),
    ]


def test_a_lowered_setting_lets_the_older_versions_go_on_the_next_write(alice, player, game):
    settings = SaveSettings.objects.create(game=game, versions_kept=MAX_VERSIONS_KEPT)
    create(alice, "slot1", 1)
    for version in range(1, MAX_VERSIONS_KEPT + 3):
        put(alice, "slot1", version + 1, HTTP_IF_MATCH=f'"{version}"')
    kept = DocumentVersion.objects.filter(document__player=player)
    newest = MAX_VERSIONS_KEPT + 3
    assert sorted(kept.values_list("version", flat=True)) == list(range(4, newest + 1))

    settings.versions_kept = 2
    settings.save()
    clear_every_cache()  # the policy cache's 2 s bound, without waiting
    put(alice, "slot1", "last", HTTP_IF_MATCH=f'"{newest}"')

    assert sorted(kept.values_list("version", "value")) == [(newest, newest), (newest + 1, "last")]


def test_a_changed_limit_applies_within_the_policy_caches_bound(alice, game, monkeypatch):
    from apps.cloudsave import policy
    from gamingpanel import shortcache

    now = [1_000.0]
    monkeypatch.setattr(shortcache.time, "monotonic", lambda: now[0])
    settings = SaveSettings.objects.create(game=game, max_document_bytes=100)
    assert create(alice, "slot1", "x" * 30).status_code == 201  # the policy read and kept
    settings.max_document_bytes = 20
    settings.save()

    now[0] += policy.POLICY_SECONDS - 0.1
    kept = create(alice, "slot2", "x" * 30).status_code
    now[0] += 0.1
    applied = create(alice, "slot3", "x" * 30).status_code

    assert (kept, applied) == (201, 413)


def test_a_document_over_the_games_limit_is_413_and_stores_nothing(alice, game):
    SaveSettings.objects.create(game=game, max_document_bytes=20)

    response = create(alice, "slot1", "x" * 30)

    assert response.status_code == 413
    problem = response.json()
    assert problem["code"] == "document_too_large"
    assert (problem["size"], problem["limit"]) == (32, 20)
    assert not Document.objects.exists()


def test_numbers_count_as_the_database_writes_them_out(alice, player, game):
    SaveSettings.objects.create(game=game, max_document_bytes=100)

    # 6 bytes as sent, but PostgreSQL's jsonb keeps (and answers) 1e308 as 309 digits.
    response = create(alice, "slot1", [1e308])

    assert response.status_code == 413
    assert response.json()["size"] == 311
    assert create(alice, "slot1", [1.5, "re-enter", 12]).status_code == 201
    stored = Document.objects.get(player=player, key="slot1")
    with connection.cursor() as cursor:  # what the database holds, as text
        cursor.execute(f"SELECT value FROM {Document._meta.db_table} WHERE id = %s", [stored.pk])
        (raw,) = cursor.fetchone()
    held = raw if isinstance(raw, str) else json.dumps(raw)
    assert stored.size == len(held.replace(", ", ",").encode())


def test_the_players_total_is_limited_and_shrinking_is_always_allowed(alice, player, game):
    SaveSettings.objects.create(game=game, max_document_bytes=100, max_player_bytes=50)
    create(alice, "a", "x" * 38)  # 40 bytes

    full = create(alice, "b", "y" * 10)  # 12 more: 52 > 50
    assert full.status_code == 413 and full.json()["code"] == "player_storage_full"
    assert not Document.objects.filter(key="b").exists()
    assert SaveUsage.objects.get(player=player).bytes == 40

    shrunk = put(alice, "a", "x", HTTP_IF_MATCH='"1"')
    assert shrunk.status_code == 200
    assert create(alice, "b", "y" * 10).status_code == 201
    assert SaveUsage.objects.get(player=player).bytes == 3 + 12


def test_a_batch_over_a_limit_is_413_and_writes_none_of_its_keys(alice, player, game):
    SaveSettings.objects.create(game=game, max_document_bytes=20, max_player_bytes=30)
    create(alice, "a", "x" * 8)  # 10 bytes

    too_large = alice.post(
        URL,
        {"writes": [{"key": "b", "value": 1}, {"key": "c", "value": "y" * 30}]},
        format="json",
    )
    too_full = alice.post(
        URL,
        {
            "writes": [
                {"key": "a", "value": "x" * 2, "version": 1},  # shrinks a by 6
                {"key": "b", "value": "y" * 16},  # 18
                {"key": "c", "value": "z" * 8},  # 10: 4 + 18 + 10 = 32 > 30
            ]
        },
        format="json",
    )

    assert (too_large.status_code, too_large.json()["code"]) == (413, "document_too_large")
    assert too_large.json()["key"] == "c"
    assert (too_full.status_code, too_full.json()["code"]) == (413, "player_storage_full")
    assert sorted(Document.objects.values_list("key", "version")) == [("a", 1)]
    assert SaveUsage.objects.get(player=player).bytes == 10


def test_the_players_documents_are_limited_deleted_ones_included(alice, player, game):
    """Without a cap on documents, a client creating and deleting new keys stored without end:
    a deleted document keeps its kept versions (for a restore) and counted 0 bytes."""
    SaveSettings.objects.create(game=game, max_documents=2)
    assert create(alice, "a", 1).status_code == 201
    assert create(alice, "b", 2).status_code == 201

    third = create(alice, "c", 3)
    assert (third.status_code, third.json()["code"]) == (413, "too_many_documents")
    assert third.json()["limit"] == 2
    assert alice.delete(f"{URL}/a", HTTP_IF_MATCH='"1"').status_code == 204
    # The deleted key still counts; writing it again reuses its document.
    assert create(alice, "c", 3).json()["code"] == "too_many_documents"
    assert create(alice, "a", 4).status_code == 201
    assert put(alice, "b", 5, HTTP_IF_MATCH='"1"').status_code == 200  # no new document
    batch = alice.post(URL, {"writes": [{"key": "c", "value": 1}, {"key": "d", "value": 2}]},
                       format="json")  # fmt: skip
    assert (batch.status_code, batch.json()["code"]) == (413, "too_many_documents")
    assert sorted(Document.objects.values_list("key", flat=True)) == ["a", "b"]
    assert SaveUsage.objects.get(player=player).documents == 2


def test_a_server_only_key_is_read_but_not_written_by_the_player(alice, game, player):
    SaveKey.objects.create(game=game, key="rank", writer=SaveKey.Writer.SERVER)

    refused = create(alice, "rank", {"tier": "gold"})

    assert refused.status_code == 403 and refused.json()["code"] == "save_key_not_writable"
    assert not Document.objects.exists()


def test_a_game_may_take_declared_keys_only(alice, game):
    SaveSettings.objects.create(game=game, undeclared_keys=False)
    SaveKey.objects.create(game=game, key="slot1")

    assert create(alice, "slot1", 1).status_code == 201
    refused = create(alice, "other", 1)
    assert refused.status_code == 403 and refused.json()["code"] == "save_key_not_writable"


def test_a_key_the_game_stopped_taking_can_still_be_deleted(alice, game, player):
    create(alice, "old-slot", {"a": 1})
    SaveSettings.objects.create(game=game, undeclared_keys=False)
    clear_every_cache()  # the game's rules are cached for a few seconds

    assert put(alice, "old-slot", {"a": 2}, HTTP_IF_MATCH='"1"').status_code == 403
    deleted = alice.delete(f"{URL}/old-slot", HTTP_IF_MATCH='"1"')

    assert deleted.status_code == 204
    assert SaveUsage.objects.get(player=player).bytes == 0


def test_gets_and_puts_take_few_queries(alice, django_assert_max_num_queries):
    create(alice, "slot1", {"a": 1})
    alice.get(f"{URL}/slot1")  # warm: the token's player and the game's rules are cached

    with django_assert_max_num_queries(1):
        assert alice.get(f"{URL}/slot1").status_code == 200
    with django_assert_max_num_queries(1):
        assert alice.get(URL).status_code == 200
    # The lock, then the update, byte count and history row: on PostgreSQL sent together in one
    # round trip (gamingpanel.sql.run_together), elsewhere one by one; + the test's savepoints.
    writes = 1 if connection.vendor == "postgresql" else 3
    with django_assert_max_num_queries(2 + 1 + writes):
        assert put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"').status_code == 200


def nested(depth: int) -> str:
    """A JSON value of `depth` arrays, one inside the other."""
    return "[" * depth + "]" * depth


def test_a_value_64_levels_deep_is_stored(alice):
    created = alice.put(
        f"{URL}/slot1",
        f'{{"value": {nested(64)}}}'.encode(),
        content_type="application/json",
        HTTP_IF_NONE_MATCH="*",
    )
    assert created.status_code == 201


@pytest.mark.parametrize("depth", [65, 900, 975, 985])
def test_a_value_nested_deeper_is_refused_and_stores_nothing(alice, player, depth):
    # The deepest of these parse (the parser stops near the recursion limit) but could not be
    # encoded again where the write runs, many calls further down: once a 500.
    created = alice.put(
        f"{URL}/slot1",
        f'{{"value": {nested(depth)}}}'.encode(),
        content_type="application/json",
        HTTP_IF_NONE_MATCH="*",
    )

    assert created.status_code in (400, 422)
    assert created.json()["code"] == (
        "value_too_deep" if created.status_code == 422 else "malformed_json"
    )
    assert not Document.objects.exists() and not SaveUsage.objects.exists()


def test_a_batch_over_the_limit_is_refused_before_any_write_is_read(alice, player):
    # Every write is invalid: DRF's ListField would validate (and name) each one before it
    # counted them; the count comes first, so the answer names the limit only.
    writes = [{"key": "", "value": None} for _ in range(200)]

    response = alice.post(URL, {"writes": writes}, format="json")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["errors"] == {"writes": ["Ensure this field has no more than 25 elements."]}
    assert not Document.objects.filter(player=player).exists()
