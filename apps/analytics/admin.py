from django.contrib import admin

from apps.accounts.admin_scoping import ReadOnlyScopedAdmin
from apps.analytics.models import DailyMetrics, RevenueDay


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
