"""Deleted documents (tombstones) are pruned CLOUDSAVE_TOMBSTONE_DAYS after the delete, with
their kept versions: they stop counting against the player's documents, a device holding an old
version of a pruned key still gets a 412 (never an overwrite), and a key written again while the
prune runs is kept."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from celery.schedules import crontab
from django.conf import settings as django_settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from apps.cloudsave import services
from apps.cloudsave.errors import PreconditionFailed, SaveNotFound
from apps.cloudsave.models import Document, DocumentVersion, SaveSettings, SaveUsage
from apps.cloudsave.selectors import saves_for_operator
from apps.cloudsave.services import (
    Precondition,
    Source,
    Write,
    delete_document,
    prune_tombstones,
    put_document,
    restore_version,
    write_batch,
)
from tests.cloudsave.conftest import URL, create, put
from tests.conftest import in_thread

DAYS = 30


@pytest.fixture(autouse=True)
def _tombstone_days(settings) -> None:
    settings.CLOUDSAVE_TOMBSTONE_DAYS = DAYS


def write(player, key: str, value: object, precondition: Precondition) -> Document | None:
    """A player's write through the service (no request): its document, None for a delete."""
    if value is None:
        delete_document(player=player, key=key, precondition=precondition,
                        source=Source.PLAYER, idempotency_key=None)  # fmt: skip
        return None
    put_document(player=player, key=key, value=value, precondition=precondition,
                 source=Source.PLAYER, idempotency_key=None)  # fmt: skip
    return Document.objects.get(player=player, key=key)


def age(player, *keys: str, days: float) -> None:
    """The documents' last write `days` ago."""
    Document.objects.filter(player=player, key__in=keys).update(
        updated_at=timezone.now() - timedelta(days=days)
    )


def usage(player) -> tuple[int, int, int]:
    row = SaveUsage.objects.get(player=player)
    return row.bytes, row.documents, row.pruned_version


@pytest.mark.django_db
def test_old_tombstones_go_with_their_kept_versions_and_stop_counting(alice, player, game):
    """A player who created and deleted keys over time had the game's cap filled with tombstones
    for good: the cap counts them, and nothing ever removed them."""
    SaveSettings.objects.create(game=game, max_documents=3)
    for key in ("old", "young", "live"):
        assert create(alice, key, {"k": key}).status_code == 201
    assert put(alice, "old", {"k": 2}, HTTP_IF_MATCH='"1"').status_code == 200
    assert alice.delete(f"{URL}/old", HTTP_IF_MATCH='"2"').status_code == 204
    assert alice.delete(f"{URL}/young", HTTP_IF_MATCH='"1"').status_code == 204
    age(player, "old", days=DAYS + 0.01)
    age(player, "live", days=DAYS * 3)  # not deleted: never pruned, however old
    age(player, "young", days=DAYS - 0.01)
    assert create(alice, "new", 1).json()["code"] == "too_many_documents"
    old = Document.objects.get(player=player, key="old")

    assert prune_tombstones() == 1

    assert sorted(Document.objects.values_list("key", "deleted")) == [
        ("live", False),
        ("young", True),
    ]
    assert not DocumentVersion.objects.filter(document_id=old.pk).exists()
    assert DocumentVersion.objects.filter(document__key="young").count() == 2
    live_bytes = Document.objects.get(key="live").size
    assert usage(player) == (live_bytes, 2, 3)  # the tombstone was at version 3
    assert [d.key for d, _ in saves_for_operator(player=player)] == ["live", "young"]
    # Its place under the cap is free again.
    assert create(alice, "new", 1).status_code == 201
    assert prune_tombstones() == 0


@pytest.mark.django_db
def test_a_pruned_document_cannot_be_restored_any_more(player):
    write(player, "slot1", {"gold": 1}, Precondition(create_only=True))
    write(player, "slot1", None, Precondition(version=1))
    age(player, "slot1", days=DAYS + 1)
    operator = get_user_model().objects.create_user(username="oscar", password="pw-long-enough-1")

    assert prune_tombstones() == 1

    with pytest.raises(SaveNotFound):
        restore_version(actor=operator, player=player, key="slot1", version=1, reason="ticket",
                        seen_version=2)  # fmt: skip


@pytest.mark.django_db
def test_a_device_holding_a_version_of_a_pruned_key_gets_412_never_an_overwrite(alice, bob, player):
    """Device A last synced slot1 at version 3, then stayed offline past the prune of the key's
    tombstone (deleted at 4 by another device). With versions starting again at 1, a new slot1
    written twice by device B was at version 3 again, and A's If-Match "3" went through over B's
    progress."""
    create(alice, "slot1", {"chapter": 1})
    put(alice, "slot1", {"chapter": 2}, HTTP_IF_MATCH='"1"')
    put(alice, "slot1", {"chapter": 3}, HTTP_IF_MATCH='"2"')  # A holds version 3
    assert alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"3"').status_code == 204
    age(player, "slot1", days=DAYS + 1)
    assert prune_tombstones() == 1

    # Against nothing: as against the tombstone, 412 with `current` null; a read is 404.
    stale = put(alice, "slot1", {"chapter": 9}, HTTP_IF_MATCH='"3"')
    assert (stale.status_code, stale.json()["code"], stale.json()["current"]) == (
        412,
        "precondition_failed",
        None,
    )
    stale_delete = alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"3"')
    assert (stale_delete.status_code, stale_delete.json()["current"]) == (412, None)
    assert alice.get(f"{URL}/slot1").status_code == 404
    assert not Document.objects.filter(player=player).exists()

    # Another device makes the key again and writes it twice: it starts above the pruned 4.
    again = create(alice, "slot1", {"chapter": 1, "by": "B"})
    assert (again.status_code, again["ETag"]) == (201, '"5"')
    put(alice, "slot1", {"chapter": 2, "by": "B"}, HTTP_IF_MATCH='"5"')
    b_copy = put(alice, "slot1", {"chapter": 3, "by": "B"}, HTTP_IF_MATCH='"6"').json()

    late = put(alice, "slot1", {"chapter": 9, "by": "A"}, HTTP_IF_MATCH='"3"')
    assert late.status_code == 412
    assert late.json()["current"] == b_copy  # A merges with B's copy, as after any conflict
    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.value) == (7, {"chapter": 3, "by": "B"})
    # Every new document of the player starts above it, in a batch too; others' do not.
    assert create(alice, "other", 1).json()["version"] == 5
    batch = alice.post(URL, {"writes": [{"key": "x", "value": 1}]}, format="json")
    assert batch.json()["saves"][0]["version"] == 5
    assert create(bob, "slot1", 1).json()["version"] == 1


@pytest.mark.django_db
def test_a_key_written_again_after_the_prune_read_its_ids_is_kept(player, monkeypatch):
    """The interleaving, step by step: the prune reads the ids of old tombstones, a device
    writes one of those keys again, then the prune deletes. Deleting by the ids read (as the
    ORM's queryset delete does: it collects rows, then deletes them by primary key) took the
    device's new document with it; the delete names the condition again and keeps it."""
    write(player, "mine", {"a": 1}, Precondition(create_only=True))
    write(player, "mine", None, Precondition(version=1))
    write(player, "other", {"a": 1}, Precondition(create_only=True))
    write(player, "other", None, Precondition(version=1))
    age(player, "mine", "other", days=DAYS + 1)
    read_ids = services.old_tombstone_ids

    def then_the_device_writes(**kwargs):
        ids = read_ids(**kwargs)
        if ids:
            write(player, "mine", {"a": 2}, Precondition(create_only=True))
        return ids

    monkeypatch.setattr(services, "old_tombstone_ids", then_the_device_writes)

    assert prune_tombstones() == 1  # "other" only

    document = Document.objects.get(player=player)
    assert (document.key, document.version, document.deleted) == ("mine", 3, False)
    assert document.value == {"a": 2}
    assert list(
        DocumentVersion.objects.filter(document=document).values_list("version", flat=True)
    ) == [3, 2, 1]
    assert usage(player)[1:] == (1, 2)  # one document; "other" was pruned at version 2


@pytest.mark.django_db
def test_the_prune_walks_batches_by_id_and_keeps_young_tombstones_between_old_ones(
    player, other_player
):
    for n in range(6):
        write(player, f"k{n}", {"n": n}, Precondition(create_only=True))
        write(player, f"k{n}", None, Precondition(version=1))
    for _ in range(3):  # other_player's only document, deleted at version 6
        document = write(other_player, "deep", {"x": 1}, Precondition(create_only=True))
        write(other_player, "deep", None, Precondition(version=document.version))
    age(player, "k0", "k1", "k3", "k5", days=DAYS + 1)  # k2 and k4: young, between old ones
    age(other_player, "deep", days=DAYS + 1)

    assert prune_tombstones(batch=2) == 5

    assert sorted(Document.objects.values_list("key", flat=True)) == ["k2", "k4"]
    assert usage(player) == (0, 2, 2)
    assert usage(other_player) == (0, 0, 6)
    assert DocumentVersion.objects.count() == 4  # k2's and k4's two each


@pytest.mark.django_db
def test_the_prune_runs_daily_from_beat_as_a_task(player):
    from apps.cloudsave.tasks import prune_tombstones as prune_task

    entry = django_settings.CELERY_BEAT_SCHEDULE["prune-save-tombstones"]
    assert entry["task"] == prune_task.name == "apps.cloudsave.tasks.prune_tombstones"
    assert isinstance(entry["schedule"], crontab)  # fixed time: a beat restart does not skip it
    assert entry["schedule"].hour == {3}
    write(player, "slot1", 1, Precondition(create_only=True))
    write(player, "slot1", None, Precondition(version=1))
    age(player, "slot1", days=DAYS + 1)

    assert prune_task.apply().get() == 1
    assert not Document.objects.exists()


# --- Real threads on PostgreSQL: the row lock and the conditional delete decide ---------------


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_prune_meeting_a_write_that_holds_the_tombstone_skips_it_and_keeps_the_document(player):
    """A device re-creates the key and has not committed when the prune reads the old
    tombstones (it still sees one): the prune passes the row the device holds by (SKIP LOCKED,
    it is left for the next day's run), and the device's write stands."""
    write(player, "slot1", {"gold": 1}, Precondition(create_only=True))
    write(player, "slot1", None, Precondition(version=1))
    age(player, "slot1", days=DAYS + 1)
    written, release = threading.Event(), threading.Event()

    def device() -> None:
        with transaction.atomic():
            write(player, "slot1", {"gold": 2}, Precondition(create_only=True))
            written.set()
            release.wait(10)

    writing = in_thread(device)
    assert written.wait(10)
    try:
        assert in_thread(prune_tombstones).result(timeout=5) == 0  # no wait on the device
    finally:
        release.set()
    writing.result(timeout=10)

    document = Document.objects.get(player=player, key="slot1")
    assert (document.version, document.deleted, document.value) == (3, False, {"gold": 2})
    assert DocumentVersion.objects.filter(document=document).count() == 3
    assert usage(player)[1:] == (1, 0)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_batch_recreating_old_tombstones_and_the_prune_never_deadlock(player, monkeypatch):
    """A batch locks its keys in key order, the prune took its rows in id order: "b" (older id)
    and "a" meeting both ways round deadlocked, and PostgreSQL aborted one of them."""
    for key in ("b", "a"):  # b gets the lower id
        write(player, key, {"v": 1}, Precondition(create_only=True))
        write(player, key, None, Precondition(version=1))
    age(player, "a", "b", days=DAYS + 1)
    holding_a, go_on = threading.Event(), threading.Event()
    real = services.LOCK_DOCUMENT

    class PausesAfterA:
        def first(self, params):
            found = real.first(params)
            if params[1] == "a":
                holding_a.set()
                go_on.wait(10)
            return found

    monkeypatch.setattr(services, "LOCK_DOCUMENT", PausesAfterA())
    batch = [Write(key, {"v": 2}, Precondition(create_only=True)) for key in ("a", "b")]
    writing = in_thread(
        lambda: write_batch(player=player, writes=batch, source=Source.PLAYER, idempotency_key=None)
    )
    assert holding_a.wait(10)
    pruning = in_thread(prune_tombstones)
    # It skips the row the batch holds, never waits for it: done while the batch is held.
    assert pruning.result(timeout=10) == 1  # "b", which the batch did not hold yet
    go_on.set()

    writing.result(timeout=10)
    assert set(
        Document.objects.filter(player=player, deleted=False).values_list("key", flat=True)
    ) == {
        "a",
        "b",
    }


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_write_meeting_a_prune_that_holds_the_tombstone_waits_and_creates_above_it(player):
    """The prune has deleted the tombstone and not committed when a device writes the key: the
    write waits on the row, finds no document, and creates one above the pruned version."""
    write(player, "slot1", {"gold": 1}, Precondition(create_only=True))
    write(player, "slot1", {"gold": 2}, Precondition(version=1))
    write(player, "slot1", None, Precondition(version=2))  # pruned at version 3
    age(player, "slot1", days=DAYS + 1)
    pruned, release = threading.Event(), threading.Event()

    def prune_held_open() -> int:
        with transaction.atomic():
            count = prune_tombstones()
            pruned.set()
            release.wait(10)
            return count

    pruning = in_thread(prune_held_open)
    assert pruned.wait(10)
    device = in_thread(lambda: write(player, "slot1", {"gold": 9}, Precondition(create_only=True)))
    time.sleep(0.3)
    assert not device.done()  # waiting on the row the prune deleted
    release.set()

    assert pruning.result(timeout=10) == 1
    document = device.result(timeout=10)
    assert (document.version, document.value) == (4, {"gold": 9})
    assert list(DocumentVersion.objects.values_list("document_id", "version")) == [(document.pk, 4)]
    assert usage(player)[1:] == (1, 3)
    # A device still at version 2 of the pruned document: a 412, not an overwrite.
    with pytest.raises(PreconditionFailed):
        write(player, "slot1", {"gold": 0}, Precondition(version=2))
