"""Reads of cloud save: one query each, bodies built in the API serializer's shape. A player's
own reads are compiled once (gamingpanel.sql): building them with the ORM cost more than
running them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db import connection

from apps.accounts.api_base import TIMESTAMP
from apps.accounts.models import Player
from apps.cloudsave.models import Document, DocumentVersion
from gamingpanel.sql import CompiledQuery, aware

BODY_COLUMNS = ("key", "version", "value", "updated_at")
_VALUE = Document._meta.get_field("value")

PLAYER_DOCUMENT = CompiledQuery.compile(
    "SELECT key, version, value, updated_at FROM {document}"
    " WHERE player_id = %s AND key = %s AND deleted = %s",
    document=Document,
)
PLAYER_DOCUMENTS = CompiledQuery.compile(
    "SELECT key, version, value, updated_at FROM {document}"
    " WHERE player_id = %s AND deleted = %s ORDER BY key",
    document=Document,
)


def document_body(document: Document) -> dict[str, Any]:
    return _body(document.key, document.version, document.value, document.updated_at)


def _body(key: str, version: int, value: Any, updated_at: Any) -> dict[str, Any]:
    return {
        "key": key,
        "version": version,
        "value": value,
        "updated_at": TIMESTAMP.to_representation(updated_at),
    }


def _raw_body(key: str, version: int, value: Any, updated_at: Any) -> dict[str, Any]:
    """A body from a compiled row: the value as the JSON field loads it, the time aware."""
    # No expression: the value comes from our own SQL, as in a Django loader without one.
    loaded = _VALUE.from_db_value(value, None, connection)  # type: ignore[arg-type]
    return _body(key, version, loaded, aware(updated_at))


def documents_of(*, player_id: int) -> list[dict[str, Any]]:
    """The player's live documents by key."""
    return [_raw_body(*row) for row in PLAYER_DOCUMENTS.rows([player_id, False])]


def document_of(*, player_id: int, key: str) -> dict[str, Any] | None:
    row = PLAYER_DOCUMENT.row([player_id, key, False])
    return _raw_body(*row) if row else None


def public_documents_of(
    *, game_id: int, player_id: int, public_keys: list[str], key: str | None = None
) -> list[dict[str, Any]]:
    """Another player's documents under the game's public keys; nothing of another game."""
    keys = [k for k in public_keys if key is None or k == key]
    if not keys:
        return []
    rows = Document.objects.filter(
        game_id=game_id, player_id=player_id, key__in=keys, deleted=False
    )
    return [_body(*row) for row in rows.order_by("key").values_list(*BODY_COLUMNS)]


def saves_for_operator(*, player: Player) -> list[tuple[Document, list[DocumentVersion]]]:
    """The player page: every document (tombstones too) with its kept versions, newest first."""
    documents = list(Document.objects.filter(player=player).order_by("key"))
    versions: dict[int, list[DocumentVersion]] = {d.pk: [] for d in documents}
    for kept in DocumentVersion.objects.filter(document__in=documents).order_by("-version"):
        versions[kept.document_id].append(kept)
    return [(d, versions[d.pk]) for d in documents]


def old_tombstone_ids(*, after: int, cutoff: datetime, batch: int) -> list[int]:
    """The next `batch` ids above `after` of documents deleted before `cutoff`, in id order
    (through the partial index of tombstones: the live documents are never read)."""
    tombstones = Document.objects.filter(deleted=True, updated_at__lt=cutoff, pk__gt=after)
    return list(tombstones.order_by("pk").values_list("pk", flat=True)[:batch])
