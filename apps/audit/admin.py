from django.contrib import admin
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
    fixed_choices_filter,
)
from apps.accounts.selectors import OWNER_ROLES, sees_every_game
from apps.audit.diffs import changes_text, field_changes
from apps.audit.models import AuditLogEntry
from apps.audit.services import LOGIN_FAILED, LOGIN_LOCKED_OUT

# What the apps record (the log takes any action): a value not listed still filters by URL.
# tests/audit/test_admin_list_queries.py holds this list to the actions the code writes.
ACTIONS = [
    (action, action)
    for action in sorted(
        {
            "admin_add",
            "admin_change",
            "admin_delete",
            LOGIN_FAILED,
            LOGIN_LOCKED_OUT,
            "operator.otp_enabled",
            "operator.otp_removed",
            "operator.otp_reset",
            "player.ban",
            "player.erase",
            "player.export",
            "player.unban",
            "records.export",
            "session.revoke",
            "server_key.revoke",
            "inventory.grant",
            "inventory.revoke",
            "cloudsave.restore_version",
            "payments.refund",
            "offer.clone",
            "season.clone",
            "season.generate_tiers",
            "event.clone",
            "event.reschedule_repeats",
            "event.delete_repeats",
            "leaderboard.end_period",
            "leaderboard.remove_entry",
            "leaderboard.retry_payout",
            "remoteconfig.set_key",
            "remoteconfig.delete_key",
            "remoteconfig.add_override",
            "remoteconfig.delete_override",
            "remoteconfig.publish",
            "remoteconfig.rollback",
            "segment.grant",
            "segment.revoke",
            "segment.ban",
            "segment.unban",
            "segment.resume",
            "segment.stop",
        }
    )
]


@admin.register(AuditLogEntry)
class AuditLogEntryAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """Owners read the log; nobody edits or deletes it from the panel. A big table: no count of
    every entry, no date drill-down (both read all of it), actions from a fixed list, dates from
    the filter's fixed ranges (indexed), and a search its indexes answer."""

    write_roles = OWNER_ROLES
    list_display = [
        "created_at", "actor_name", "game", "action", "target_repr", "change_summary", "reason"
    ]  # fmt: skip
    exclude = ["before", "after"]
    list_select_related = ["game"]  # nullable: Django's default joins only required keys
    readonly_fields = ["changes"]
    list_filter = ["game", fixed_choices_filter("action", ACTIONS), "created_at"]
    search_fields = ["=target_id", "=actor_name"]
    search_help_text = "The id of what was acted on (a player id), or an operator's username."
    show_full_result_count = False
    paginator = CappedCountPaginator

    # The entries of no game (failed sign-ins and lock-outs, two-factor resets, a deleted game's
    # log) are no two-factor game's: every superuser reads them, list and page, a sign-in
    # without a code included, even on a deployment with no game. A game's entries follow the
    # game's visibility (games_for_user).
    def has_module_permission(self, request):
        return request.user.is_superuser or bool(self._game_ids(request, OWNER_ROLES))

    def has_view_permission(self, request, obj=None):
        if request.user.is_superuser and (obj is None or obj.game_id is None):
            return True
        allowed = self._game_ids(request, OWNER_ROLES)
        return bool(allowed) if obj is None else obj.game_id in allowed

    def get_queryset(self, request):
        queryset = admin.ModelAdmin.get_queryset(self, request)
        if sees_every_game(request.user):
            return queryset
        visible = Q(game__in=self._game_ids(request, OWNER_ROLES))
        if request.user.is_superuser:
            visible |= Q(game__isnull=True)
        return queryset.filter(visible)

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
