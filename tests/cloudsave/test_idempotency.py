"""Writes under an Idempotency-Key: the shared header reading (gamingpanel.idempotency), and the
first success answered again."""

from __future__ import annotations

import pytest

from apps.cloudsave.models import Document, DocumentVersion, SaveReceipt, SaveSettings
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db


def test_a_retried_put_answers_the_first_result_and_writes_once(alice, player):
    create(alice, "slot1", {"a": 1})

    first = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="k-1")
    retry = put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="k-1")

    assert first.status_code == retry.status_code == 200
    assert retry.json() == first.json() and retry["ETag"] == '"2"'
    assert Document.objects.get(player=player).version == 2
    assert DocumentVersion.objects.count() == 2


def test_a_retried_create_and_batch_answer_their_first_result(alice):
    first = create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="c-1")
    assert create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="c-1").json() == first.json()

    batch = {"writes": [{"key": "a", "value": 1}, {"key": "slot1", "value": 2, "version": 1}]}
    done = alice.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    again = alice.post(URL, batch, format="json", HTTP_IDEMPOTENCY_KEY="b-1")
    assert done.status_code == again.status_code == 200
    assert again.json() == done.json()


def test_a_retried_delete_answers_204_again(alice):
    create(alice, "slot1", 1)

    assert (
        alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="d").status_code
        == 204
    )
    assert (
        alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"1"', HTTP_IDEMPOTENCY_KEY="d").status_code
        == 204
    )


def test_the_same_key_with_another_body_is_422(alice):
    create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="k")

    response = create(alice, "slot2", 1, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused"
    assert not Document.objects.filter(key="slot2").exists()


def test_a_refused_write_stores_no_receipt_so_its_retry_is_judged_again(alice, game):
    settings = SaveSettings.objects.create(game=game, max_document_bytes=5)

    assert create(alice, "slot1", "too long", HTTP_IDEMPOTENCY_KEY="r").status_code == 413
    assert not SaveReceipt.objects.exists()

    settings.max_document_bytes = 100
    settings.save()
    from gamingpanel.shortcache import clear_every_cache

    clear_every_cache()  # the rule cache's 2 s bound, without waiting
    assert create(alice, "slot1", "too long", HTTP_IDEMPOTENCY_KEY="r").status_code == 201


def test_two_players_may_use_the_same_key(alice, bob):
    assert create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert create(bob, "slot1", 2, HTTP_IDEMPOTENCY_KEY="same").status_code == 201


def test_receipts_older_than_the_retention_are_forgotten_and_the_key_is_new_again(
    alice, player, settings
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.cloudsave.services import prune_receipts
    from apps.cloudsave.tasks import prune_receipts as prune_task

    settings.CLOUDSAVE_RECEIPT_DAYS = 7
    create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="old")
    create(alice, "slot2", 1, HTTP_IDEMPOTENCY_KEY="young")
    now = timezone.now()
    SaveReceipt.objects.filter(idempotency_key__endswith=":old").update(
        created_at=now - timedelta(days=7, seconds=1)
    )
    SaveReceipt.objects.filter(idempotency_key__endswith=":young").update(
        created_at=now - timedelta(days=6, hours=23)
    )

    assert prune_receipts(now=now, batch=1) == 1
    assert prune_task.apply().get() == 0  # the task runs the same pruning; nothing old is left

    kept = SaveReceipt.objects.values_list("idempotency_key", flat=True)
    assert [key.rsplit(":", 1)[1] for key in kept] == ["young"]
    # Forgotten: the same key and body is a new write, judged by its precondition (it exists).
    again = create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY="old")
    assert again.status_code == 412
    assert create(alice, "slot2", 1, HTTP_IDEMPOTENCY_KEY="young").status_code == 201
    assert Document.objects.get(player=player, key="slot1").version == 1


# The schema's Idempotency-Key is 1 to 150 printable ASCII characters; the server takes that and
# refuses the rest (it took any characters, stripped, while the schema refused them).
@pytest.mark.parametrize("key", ["é", "a\x7fb", "\x1fk", "k\x0b", "tab\tinside", "x" * 151])
def test_an_idempotency_key_the_schema_refuses_is_400(alice, key):
    response = create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY=key)

    assert (response.status_code, response.json()["code"]) == (400, "idempotency_key_required")
    assert not Document.objects.exists() and not SaveReceipt.objects.exists()


@pytest.mark.parametrize("key", ["k", "x" * 150, "550e8400-e29b-41d4-a716-446655440000", "a b~!"])
def test_printable_ascii_keys_are_taken(alice, key):
    assert create(alice, "slot1", 1, HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert SaveReceipt.objects.count() == 1
