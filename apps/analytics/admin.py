from typing import Any

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin
from apps.analytics.models import DailyMetrics, EventName, RevenueDay


@admin.register(DailyMetrics)
class DailyMetricsAdmin(ReadOnlyScopedAdmin):
    """The aggregates the dashboard reads, for a quick look or a filter; written by Celery."""

    list_display = [
        "day", "game", "dau", "mau", "new_players", "sessions", "paying_users", "purchases",
        "refunds", "matches", "updated_at",
    ]  # fmt: skip
    list_filter = ["game"]
    date_hierarchy = "day"
    ordering = ["-day", "game"]


@admin.register(RevenueDay)
class RevenueDayAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "day", "game", "currency", "real_money", "purchases", "gross", "refunded", "paying_users",
    ]  # fmt: skip
    list_filter = ["game", "real_money", "currency"]
    date_hierarchy = "day"
    ordering = ["-day", "game", "currency"]


@admin.register(EventName)
class EventNameAdmin(GameScopedAdmin):
    """The client event names each game has used, against ANALYTICS_MAX_EVENT_NAMES. Names are
    registered by the events themselves (never added or renamed here); deleting one frees its
    place (every process sees it within apps.analytics.names.KNOWN_SECONDS) and keeps what was
    recorded under it: a client sending it again registers it again."""

    list_display = ["name", "game", "first_seen"]
    list_filter = ["game"]
    search_fields = ["name"]
    ordering = ["game", "name"]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
