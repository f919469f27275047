from django.contrib import admin
from django.utils.html import format_html, format_html_join

from apps.accounts.admin_scoping import ReadOnlyScopedAdmin
from apps.accounts.selectors import OWNER_ROLES, sees_every_game
from apps.audit.diffs import changes_text, field_changes
from apps.audit.models import AuditLogEntry


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(ReadOnlyScopedAdmin):
    """Owners read the log; nobody edits or deletes it from the panel."""

    write_roles = OWNER_ROLES
    list_display = [
        "created_at", "actor_name", "game", "action", "target_repr", "change_summary", "reason"
    ]  # fmt: skip
    exclude = ["before", "after"]
    list_select_related = ["game"]  # nullable: Django's default joins only required keys
    readonly_fields = ["changes"]
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
        if sees_every_game(request.user):
            return queryset
        return queryset.filter(game__in=self._game_ids(request, OWNER_ROLES))

    @admin.display(description="Changes")
    def change_summary(self, entry: AuditLogEntry) -> str:
        return changes_text(entry)[:200]

    @admin.display(description="Changes")
    def changes(self, entry: AuditLogEntry) -> str:
        rows = format_html_join(
            "",
            "<tr><th>{}</th><td>{}</td><td>{}</td></tr>",
            ((c.name, c.before, c.after) for c in field_changes(entry)),
        )
        return format_html(
            '<table class="gp-diff"><thead><tr><th>Field</th><th>Before</th><th>After</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            rows or format_html("<tr><td colspan=3>No field changed.</td></tr>"),
        )
