from __future__ import annotations

from django.contrib import admin

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin
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
class DocumentAdmin(ReadOnlyScopedAdmin):
    """Read only: an operator restores a version from the panel's player page (audited)."""

    list_display = ["player", "key", "version", "size", "deleted", "updated_at"]
    list_filter = ["game", "deleted"]
    search_fields = ["key", "=player__id"]
    list_select_related = ["player"]
