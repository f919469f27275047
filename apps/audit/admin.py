from django.contrib import admin

from apps.accounts.admin_scoping import ReadOnlyScopedAdmin
from apps.accounts.selectors import OWNER_ROLES
from apps.audit.models import AuditLogEntry


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyScopedAdmin):
    """Owners read the log; nobody edits or deletes it from the panel."""

    write_roles = OWNER_ROLES
    list_display = ["created_at", "actor_name", "game", "action", "target_repr", "reason"]
    list_filter = ["game", "action"]
    search_fields = ["actor_name", "target_repr", "reason", "target_id"]
    date_hierarchy = "created_at"

    def has_module_permission(self, request):
        return bool(self._game_ids(request, OWNER_ROLES))

    def has_view_permission(self, request, obj=None):
        allowed = self._game_ids(request, OWNER_ROLES)
        return bool(allowed) if obj is None else obj.game_id in allowed

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(game__in=self._game_ids(request, OWNER_ROLES))
