"""The compiled reads and writes of cloud save (gamingpanel.sql) against the ORM's answer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from apps.cloudsave.models import Document, DocumentVersion
from apps.cloudsave.selectors import BODY_COLUMNS, _body, document_of, documents_of
from apps.cloudsave.services import LOCK_DOCUMENT, Precondition, Source, put_document

pytestmark = pytest.mark.django_db

VALUES = [{"a": [1, 2.5, None, True]}, "text ü", 3, [], {"nested": {"deep": "x"}}, False]


@pytest.fixture
def documents(player, game):
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=UTC)
    for n, value in enumerate(VALUES):
        Document.objects.create(
            game=game, player=player, key=f"k{n}", version=n + 1, value=value, size=1,
            updated_at=when,
        )  # fmt: skip
    Document.objects.create(
        game=game, player=player, key="gone", version=2, value=None, size=0, deleted=True
    )


def orm_bodies(player) -> list[dict]:
    rows = Document.objects.filter(player=player, deleted=False).order_by("key")
    return [_body(*row) for row in rows.values_list(*BODY_COLUMNS)]


def test_compiled_reads_answer_what_the_orm_reads(player, documents):
    expected = orm_bodies(player)

    assert documents_of(player_id=player.pk) == expected
    assert [document_of(player_id=player.pk, key=b["key"]) for b in expected] == expected
    assert document_of(player_id=player.pk, key="gone") is None
    assert document_of(player_id=player.pk, key="none") is None


def test_the_compiled_lock_loads_the_document_as_the_orm_does(player, documents):
    for key in ["k0", "k1", "k5", "gone"]:
        compiled = LOCK_DOCUMENT.first([player.pk, key])
        orm = Document.objects.get(player=player, key=key)
        assert [getattr(compiled, f.attname) for f in Document._meta.concrete_fields] == [
            getattr(orm, f.attname) for f in Document._meta.concrete_fields
        ]


def test_compiled_writes_store_what_the_orm_reads_back(player):
    for n, value in enumerate(VALUES):
        precondition = Precondition(version=n) if n else Precondition(create_only=True)
        put_document(
            player=player, key="slot", value=value, precondition=precondition,
            source=Source.PLAYER, idempotency_key=f"k{n}",
        )  # fmt: skip
        stored = Document.objects.get(player=player, key="slot")
        assert (stored.version, stored.value) == (n + 1, value)
        assert DocumentVersion.objects.get(document=stored, version=n + 1).value == value
