"""Two devices of one player writing at once, on PostgreSQL with real threads, over HTTP with
real access tokens: the row lock and the unique key decide, and nothing is lost."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.cloudsave.models import Document, DocumentVersion, SaveSettings, SaveUsage
from tests.cloudsave.conftest import URL
from tests.shop.conftest import access_token, bearer

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def _race(player, bodies: list, headers: dict[str, str]) -> list[tuple[int, dict]]:
    start = threading.Barrier(len(bodies))
    tokens = [access_token(player) for _ in bodies]  # one session per device

    def write(n: int) -> tuple[int, dict]:
        try:
            client = bearer(tokens[n])
            start.wait()
            response = client.put(f"{URL}/slot1", {"value": bodies[n]}, format="json", **headers)
            return response.status_code, response.json()
        finally:
            connection.close()

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(write, range(len(bodies))))


def test_two_devices_writing_one_version_one_wins_one_gets_412_with_the_winner(player):
    bearer(access_token(player)).put(
        f"{URL}/slot1", {"value": {"device": "first"}}, format="json", HTTP_IF_NONE_MATCH="*"
    )

    results = _race(player, [{"device": "A"}, {"device": "B"}], {"HTTP_IF_MATCH": '"1"'})

    assert sorted(status for status, _ in results) == [200, 412]
    (won,) = [body for status, body in results if status == 200]
    (lost,) = [body for status, body in results if status == 412]
    assert lost["code"] == "precondition_failed"
    assert lost["current"] == won  # the loser is handed the winner's document to merge
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (2, won["value"])
    assert [v.value for v in DocumentVersion.objects.order_by("version")] == [
        {"device": "first"},
        won["value"],
    ]


def test_two_devices_creating_one_key_one_creates_one_gets_412(player):
    results = _race(player, [{"device": "A"}, {"device": "B"}], {"HTTP_IF_NONE_MATCH": "*"})

    assert sorted(status for status, _ in results) == [201, 412]
    (won,) = [body for status, body in results if status == 201]
    (lost,) = [body for status, body in results if status == 412]
    assert lost["current"] == won
    assert Document.objects.get(player=player).value == won["value"]
    assert SaveUsage.objects.get(player=player).bytes == Document.objects.get(player=player).size


def test_concurrent_writes_of_many_keys_never_pass_the_players_limit(player, game):
    SaveSettings.objects.create(game=game, max_document_bytes=100, max_player_bytes=100)
    tokens = [access_token(player) for _ in range(8)]
    start = threading.Barrier(8)

    def write(n: int) -> int:
        try:
            client = bearer(tokens[n])
            start.wait()
            value = "x" * 28  # 30 bytes: three fit in 100, four do not
            return client.put(
                f"{URL}/k{n}", {"value": value}, format="json", HTTP_IF_NONE_MATCH="*"
            ).status_code
        finally:
            connection.close()

    with ThreadPoolExecutor(8) as pool:
        statuses = sorted(pool.map(write, range(8)))

    assert statuses == [201] * 3 + [413] * 5
    assert SaveUsage.objects.get(player=player).bytes == 90
    assert Document.objects.filter(player=player).count() == 3


def test_one_write_sent_twice_at_once_under_one_idempotency_key_is_written_once(player):
    bearer(access_token(player)).put(
        f"{URL}/slot1", {"value": {"gold": 0}}, format="json", HTTP_IF_NONE_MATCH="*"
    )

    # A device that timed out and retried while its first attempt was still running.
    results = _race(
        player, [{"gold": 5}] * 2, {"HTTP_IF_MATCH": '"1"', "HTTP_IDEMPOTENCY_KEY": "retry-1"}
    )

    assert [status for status, _ in results] == [200, 200]
    assert results[0][1] == results[1][1]  # the retry answers what the first answered
    assert results[0][1]["version"] == 2
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (2, {"gold": 5})
    assert DocumentVersion.objects.filter(document=document).count() == 2


def test_a_restore_of_a_deleted_document_waits_for_a_write_in_progress_and_refuses_it(player):
    """The version the operator's page showed is checked under the document's lock: a player
    who re-creates and deletes the document while the restore runs makes it a 412 (it went
    through over the new versions, and audited the stale version as `before`)."""
    import time

    from django.contrib.auth import get_user_model
    from django.db import transaction

    from apps.cloudsave.errors import PreconditionFailed
    from apps.cloudsave.services import (
        Precondition,
        Source,
        delete_document,
        put_document,
        restore_version,
    )
    from tests.conftest import in_thread

    def write(value, precondition):
        if value is None:
            return delete_document(player=player, key="slot1", precondition=precondition,
                                   source=Source.PLAYER, idempotency_key=None)  # fmt: skip
        return put_document(player=player, key="slot1", value=value, precondition=precondition,
                            source=Source.PLAYER, idempotency_key=None)  # fmt: skip

    write({"gold": 10}, Precondition(create_only=True))
    write(None, Precondition(version=1))  # the page shows slot1 deleted at version 2
    operator = get_user_model().objects.create_user(username="oscar", password="pw-long-enough-1")
    holding, release = threading.Event(), threading.Event()

    def player_meanwhile() -> None:
        with transaction.atomic():
            Document.objects.select_for_update().get(player=player, key="slot1")
            holding.set()
            release.wait(10)
            write({"gold": 99}, Precondition(create_only=True))  # version 3
            write(None, Precondition(version=3))  # version 4

    device = in_thread(player_meanwhile)
    assert holding.wait(10)
    restore = in_thread(
        lambda: restore_version(
            actor=operator, player=player, key="slot1", version=1, reason="ticket", seen_version=2
        )  # fmt: skip
    )
    time.sleep(0.3)  # the restore is waiting on the document's lock by now
    release.set()
    device.result(timeout=10)

    with pytest.raises(PreconditionFailed):
        restore.result(timeout=10)
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.deleted) == (4, True)


def test_a_batch_that_lost_a_create_race_names_only_the_key_another_device_created(player):
    """Device B creates `a` while device A's batch creates `a` and `b`: A's 412 lists `a` with
    B's document, not `b` (which nobody created) as if it were gone."""
    from django.db import transaction

    from apps.cloudsave.errors import PreconditionFailed
    from apps.cloudsave.services import Precondition, Source, Write, put_document, write_batch
    from tests.conftest import in_thread

    created, release = threading.Event(), threading.Event()

    def device_b() -> None:
        with transaction.atomic():
            put_document(player=player, key="a", value={"by": "B"},
                         precondition=Precondition(create_only=True), source=Source.PLAYER,
                         idempotency_key=None)  # fmt: skip
            created.set()
            release.wait(10)

    other = in_thread(device_b)
    assert created.wait(10)
    create = Precondition(create_only=True)
    batch = in_thread(
        lambda: write_batch(
            player=player,
            writes=[Write("a", {"by": "A"}, create), Write("b", {"by": "A"}, create)],
            source=Source.PLAYER,
            idempotency_key=None,
        )
    )
    import time

    time.sleep(0.3)  # A's insert of `a` waits on B's uncommitted one
    release.set()
    other.result(timeout=10)

    with pytest.raises(PreconditionFailed) as refused:
        batch.result(timeout=10)
    conflicts = refused.value.extra["conflicts"]
    assert [conflict["key"] for conflict in conflicts] == ["a"]
    assert conflicts[0]["current"]["value"] == {"by": "B"}
    assert sorted(Document.objects.filter(player=player).values_list("key", flat=True)) == ["a"]


def test_a_stale_batch_names_a_key_another_device_created_while_it_waited(player):
    """Device A's batch creates `a` and changes `b`; device B's batch, sent with the same base,
    finds no `a` when it locks it, then waits on A's lock of `b`. A commits: B's 412 lists both
    keys with A's documents, so one merge settles the conflict (it listed `b` alone, and the
    retry came back with a second 412 for `a`)."""
    from django.db import transaction

    from apps.cloudsave.errors import PreconditionFailed
    from apps.cloudsave.services import Precondition, Source, Write, put_document, write_batch
    from tests.conftest import in_thread

    put_document(player=player, key="b", value={"by": "first"},
                 precondition=Precondition(create_only=True), source=Source.PLAYER,
                 idempotency_key=None)  # fmt: skip
    writes = [
        Write("a", None, Precondition(create_only=True)),
        Write("b", None, Precondition(version=1)),
    ]

    def batch_of(device: str) -> list[Write]:
        return [Write(w.key, {"by": device}, w.precondition) for w in writes]

    written, release = threading.Event(), threading.Event()

    def device_a() -> None:
        with transaction.atomic():
            write_batch(player=player, writes=batch_of("A"), source=Source.PLAYER,
                        idempotency_key=None)  # fmt: skip
            written.set()
            release.wait(10)

    other = in_thread(device_a)
    assert written.wait(10)
    batch = in_thread(
        lambda: write_batch(
            player=player, writes=batch_of("B"), source=Source.PLAYER, idempotency_key=None
        )
    )
    import time

    time.sleep(0.3)  # B found no `a` and waits on A's lock of `b`
    release.set()
    other.result(timeout=10)

    with pytest.raises(PreconditionFailed) as refused:
        batch.result(timeout=10)
    conflicts = refused.value.extra["conflicts"]
    assert [conflict["key"] for conflict in conflicts] == ["a", "b"]
    assert [conflict["current"]["value"] for conflict in conflicts] == [{"by": "A"}] * 2
    assert [conflict["current"]["version"] for conflict in conflicts] == [1, 2]
    assert sorted(Document.objects.filter(player=player).values_list("key", "version")) == [
        ("a", 1),
        ("b", 2),
    ]
