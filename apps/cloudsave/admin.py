from __future__ import annotations

from django.contrib import admin

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
)
from apps.cloudsave.models import Document, SaveKey, SaveSettings


@admin.register(SaveSettings)
class SaveSettingsAdmin(GameScopedAdmin):
    list_display = [
        "game",
        "max_document_bytes",
        "max_player_bytes",
        "max_documents",
        "versions_kept",
        "undeclared_keys",
    ]


@admin.register(SaveKey)
class SaveKeyAdmin(GameScopedAdmin):
    list_display = ["key", "writer", "public", "game"]
    list_filter = ["game", "writer", "public"]
    search_fields = ["key"]


@admin.register(Document)
class DocumentAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """Read only: an operator restores a version from the panel's player page (audited). Every
    player's documents: no count of every document, and a search by player id (the documents'
    index leads with it; a key alone, which no index leads with, is not searched)."""

    list_display = ["player", "key", "version", "size", "deleted", "updated_at"]
    list_filter = ["game", "deleted"]
    search_fields = ["=player__id"]
    search_help_text = "A player id (the player list finds players by name)."
    list_select_related = ["player"]
    show_full_result_count = False
    paginator = CappedCountPaginator
