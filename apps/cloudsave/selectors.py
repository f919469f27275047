"""Reads of cloud save: one query each, bodies built in the API serializer's shape."""

from __future__ import annotations

from typing import Any

from apps.accounts.api_base import TIMESTAMP
from apps.accounts.models import Player
from apps.cloudsave.models import Document, DocumentVersion

BODY_COLUMNS = ("key", "version", "value", "updated_at")


def document_body(document: Document) -> dict[str, Any]:
    return _body(document.key, document.version, document.value, document.updated_at)


def _body(key: str, version: int, value: Any, updated_at: Any) -> dict[str, Any]:
    return {
        "key": key,
        "version": version,
        "value": value,
        "updated_at": TIMESTAMP.to_representation(updated_at),
    }


def documents_of(*, player_id: int, keys: list[str] | None = None) -> list[dict[str, Any]]:
    """The player's live documents by key (only `keys` when given)."""
    rows = Document.objects.filter(player_id=player_id, deleted=False)
    if keys is not None:
        rows = rows.filter(key__in=keys)
    return [_body(*row) for row in rows.order_by("key").values_list(*BODY_COLUMNS)]


def document_of(*, player_id: int, key: str) -> dict[str, Any] | None:
    row = (
        Document.objects.filter(player_id=player_id, key=key, deleted=False)
        .values_list(*BODY_COLUMNS)
        .first()
    )
    return _body(*row) if row else None


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
