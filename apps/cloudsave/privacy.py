"""The player's cloud saves: their current documents in the data export, and all of it (the
documents, their versions, the usage count, the Idempotency-Key receipts) deleted on erasure
(apps.accounts.privacy)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.accounts.models import Player
from apps.accounts.privacy import rows
from apps.cloudsave.models import Document, DocumentVersion, SaveReceipt, SaveUsage


def export(player: Player) -> list[dict[str, Any]]:
    documents = Document.objects.filter(player=player, deleted=False).order_by("key")
    return rows(documents, "key", "version", "value", "size", "created_at", "updated_at")


def audit_entries(player: Player) -> Q:
    """The audit entries about the player's documents (an operator's restore of a version),
    those of documents since deleted (pruned tombstones, an erasure) included: by the entry's
    text, str(Document), which ends with the player's id (a key holds no space or "#")."""
    return Q(
        target_type=Document._meta.label_lower,
        target_repr__endswith=f" of player #{player.pk}",
    )


def lock(player: Player) -> None:
    """Before the player's row, in key order, as a write locks them (services._apply): a write
    racing the erasure either finishes first, and its documents are deleted, or waits and then
    finds the player erased."""
    list(
        Document.objects.select_for_update()
        .filter(player=player)
        .order_by("key")
        .values_list("pk", flat=True)
    )


def erase(player: Player) -> None:
    # Versions first: they name the documents, not the player.
    DocumentVersion.objects.filter(document__player=player).delete()
    Document.objects.filter(player=player).delete()
    SaveUsage.objects.filter(player=player).delete()
    SaveReceipt.objects.filter(player=player).delete()
