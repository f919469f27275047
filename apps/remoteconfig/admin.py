from __future__ import annotations

from django.contrib import admin

from apps.accounts.admin_scoping import ReadOnlyScopedAdmin
from apps.remoteconfig.models import ConfigRelease


@admin.register(ConfigRelease)
class ConfigReleaseAdmin(ReadOnlyScopedAdmin):
    """Releases are made by publishing in the panel (Remote config), never edited."""

    list_display = ["game", "version", "published_at", "published_by", "rolled_back_to", "note"]
    list_select_related = ["game", "published_by"]  # published_by is nullable
    list_filter = ["game"]
