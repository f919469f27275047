from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from apps.accounts.admin_scoping import GameScopedAdmin, ReadOnlyScopedAdmin, ScopedInline
from apps.accounts.models import Game, GameAccess, PlatformIdentity, Player, ServerKey
from apps.accounts.selectors import OWNER_ROLES
from apps.accounts.services import create_server_key, revoke_server_key

admin.site.site_header = "Gaming Panel"
admin.site.site_title = "Gaming Panel"
admin.site.index_title = "Operate your games"


@admin.register(Game)
class GameAdmin(GameScopedAdmin):
    game_path = "pk"
    write_roles = OWNER_ROLES
    list_display = ["name", "slug", "sandbox", "client_key", "created_at"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ["name"]}

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super(GameScopedAdmin, self).get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk__in=self._game_ids(request, frozenset(GameAccess.Role.values)))

    def _game_id_of(self, obj: Game) -> int:
        return obj.pk

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return request.user.is_superuser  # a new tenant is the deployment owner's decision


@admin.register(ServerKey)
class ServerKeyAdmin(GameScopedAdmin):
    write_roles = OWNER_ROLES
    list_display = ["name", "game", "prefix", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["game", "revoked_at"]
    fields = ["game", "name", "prefix", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke_selected"]

    def save_model(self, request: HttpRequest, obj: ServerKey, form: Any, change: bool) -> None:
        if change:
            obj.save(update_fields=["name"])
            return
        issued = create_server_key(game=obj.game, name=obj.name)
        obj.pk, obj.prefix, obj.key_hash = (
            issued.server_key.pk,
            issued.server_key.prefix,
            issued.server_key.key_hash,
        )
        messages.warning(
            request,
            f"New server key for {obj.game}: {issued.raw_key} — copy it now, it is never shown again.",
        )

    def get_readonly_fields(self, request: HttpRequest, obj: ServerKey | None = None) -> list[str]:
        return [*self.readonly_fields, "game"] if obj else self.readonly_fields

    @admin.action(description="Revoke selected server keys")
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ServerKey]) -> None:
        for server_key in queryset:
            if self.has_change_permission(request, server_key):
                revoke_server_key(server_key=server_key)
        self.message_user(request, "Revoked.")


@admin.register(GameAccess)
class GameAccessAdmin(GameScopedAdmin):
    write_roles = OWNER_ROLES
    list_display = ["user", "game", "role"]
    list_filter = ["game", "role"]


class PlatformIdentityInline(ScopedInline):
    model = PlatformIdentity
    fields = ["platform", "platform_user_id", "created_at", "last_login_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Player | None = None) -> bool:
        return False


@admin.register(Player)
class PlayerAdmin(GameScopedAdmin):
    list_display = ["id", "display_name", "game", "created_at", "last_login_at", "banned_until"]
    list_filter = ["game"]
    search_fields = ["=id", "display_name", "identities__platform_user_id"]
    readonly_fields = ["game", "created_at", "last_login_at"]
    inlines = [PlatformIdentityInline]

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False  # players come from platform logins


@admin.register(PlatformIdentity)
class PlatformIdentityAdmin(ReadOnlyScopedAdmin):
    list_display = ["platform", "platform_user_id", "player", "game", "last_login_at"]
    list_filter = ["platform", "game"]
    search_fields = ["platform_user_id"]
