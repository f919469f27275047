"""Per-game tenancy in the Django admin: each operator sees only the games they were given,
and what they may change follows their role there (owners > operators > analysts)."""

from __future__ import annotations

import json
from typing import Any, cast

from django.contrib import admin
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, QuerySet
from django.forms.models import model_to_dict
from django.http import HttpRequest

from apps.accounts.operator_actions import announce_action
from apps.accounts.selectors import READ_ROLES, WRITE_ROLES, games_for_user


def operator(request: HttpRequest) -> User:
    """Who is acting in the admin: its views let only signed-in, active staff users in."""
    user = request.user
    assert isinstance(user, User)
    return user


class AuditedRequest(HttpRequest):
    """An admin request that loaded a row to change (for type checking; HttpRequest at run time):
    the row as it was, for the audit log."""

    _audit_before: dict[str, Any]


def audit_snapshot(obj: Model) -> dict[str, Any]:
    """The editable fields of a row as JSON (secrets are non-editable fields, so never in it)."""
    return json.loads(json.dumps(model_to_dict(obj), cls=DjangoJSONEncoder, default=str))


class GameScopedAdmin(admin.ModelAdmin):
    """For models with a path to their game (`game_path`, e.g. "game" or "player__game")."""

    game_path = "game"
    write_roles = WRITE_ROLES

    def _game_ids(self, request: HttpRequest, roles: frozenset[str]) -> set[int]:
        cache_attr = f"_gp_games_{'_'.join(sorted(roles))}"
        if not hasattr(request, cache_attr):
            setattr(
                request,
                cache_attr,
                set(games_for_user(request.user, roles=roles).values_list("pk", flat=True)),
            )
        return getattr(request, cache_attr)

    def _game_of(self, obj: Model) -> Any:
        target: Any = obj
        for part in self.game_path.split("__"):
            target = getattr(target, part, None)
            if target is None:
                return None
        return target

    def _game_id_of(self, obj: Model) -> int | None:
        game = self._game_of(obj)
        return None if game is None else game.pk

    # Every add, change and delete made in the admin lands in the audit log too, with the row
    # before and after, beside Django's own LogEntry.
    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            cast(AuditedRequest, request)._audit_before = audit_snapshot(obj)
        return obj

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        self._audit(request, obj, "admin_add", before={}, after=audit_snapshot(obj))
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        before = getattr(request, "_audit_before", {})
        after = audit_snapshot(obj)
        if before != after:
            self._audit(request, obj, "admin_change", before=before, after=after)
        return super().log_change(request, obj, message)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet) -> Any:
        for obj in queryset:
            self._audit(request, obj, "admin_delete", before=audit_snapshot(obj), after={})
        return super().log_deletions(request, queryset)

    def _audit(self, request: HttpRequest, obj: Model, action: str, **change: Any) -> None:
        announce_action(
            actor=operator(request),
            game=self._game_of(obj),
            action=action,
            target=obj,
            **change,
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(**{f"{self.game_path}__in": self._game_ids(request, READ_ROLES)})

    def has_module_permission(self, request: HttpRequest) -> bool:
        return bool(self._game_ids(request, READ_ROLES))

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        allowed = self._game_ids(request, READ_ROLES)
        return bool(allowed) if obj is None else self._game_id_of(obj) in allowed

    def _can_write(self, request: HttpRequest, obj: Model | None) -> bool:
        allowed = self._game_ids(request, self.write_roles)
        return bool(allowed) if obj is None else self._game_id_of(obj) in allowed

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return self._can_write(request, None)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._can_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self._can_write(request, obj)

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        # The changelist's list_editable save asks has_change_permission without an object, so
        # each saved row is checked here: a game the user may only read is never written.
        if not self._can_write(request, obj):
            raise PermissionDenied
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        if not self._can_write(request, obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if not request.user.is_superuser:
            writable = games_for_user(request.user, roles=self.write_roles)
            if db_field.name == "game":
                kwargs["queryset"] = writable
            elif _belongs_to_a_game(db_field.related_model):
                # A category, season or event of another tenant is never offered as a choice.
                kwargs["queryset"] = db_field.related_model._default_manager.filter(
                    game__in=writable
                )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


def _belongs_to_a_game(model: type[Model]) -> bool:
    return any(field.name == "game" and field.is_relation for field in model._meta.get_fields())


class ScopedInline(admin.TabularInline):
    """Inlines follow their parent's permissions (the parent admin already checked the game)."""

    extra = 0

    def has_view_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return True

    def has_add_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.parent_can_write(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.parent_can_write(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return self.parent_can_write(request, obj)

    def parent_can_write(self, request: HttpRequest, obj: Model | None) -> bool:
        parent = self.admin_site.get_model_admin(self.parent_model)
        return parent.has_change_permission(request, obj)


class ReadOnlyScopedAdmin(GameScopedAdmin):
    """Ledgers, purchases, matches: visible to the game's people, changed only by services."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
