"""Per-game tenancy in the Django admin: each operator sees only the games they were given,
and what they may change follows their role there (owners > operators > analysts)."""

from __future__ import annotations

import hashlib
import json
from collections import deque
from collections.abc import Sequence
from functools import cache, reduce
from operator import or_ as operator_or
from typing import Any, cast

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import router, transaction
from django.db.models import Model, Q, QuerySet
from django.forms.models import BaseInlineFormSet, ModelForm, model_to_dict
from django.http import HttpRequest
from django.utils.functional import cached_property

from apps.accounts.models import Game
from apps.accounts.operator_actions import announce_action
from apps.accounts.selectors import READ_ROLES, WRITE_ROLES, games_for_user, sees_every_game


def operator(request: HttpRequest) -> User:
    """Who is acting in the admin: its views let only signed-in, active staff users in."""
    user = request.user
    assert isinstance(user, User)
    return user


class AuditedRequest(HttpRequest):
    """An admin request that loaded a row to change (for type checking; HttpRequest at run time):
    the row as it was, for the audit log."""

    _audit_before: dict[Any, dict[str, Any]]  # by primary key: a list page saves several rows


ENCRYPTED_SUFFIX = "_encrypted"


def audit_snapshot(obj: Model) -> dict[str, Any]:
    """The editable fields of a row as JSON. An encrypted field (non-editable, so not among them)
    shows only which ciphertext is stored, as a digest: a changed secret is seen to change, and
    nothing of it is written down."""
    snapshot = json.loads(json.dumps(model_to_dict(obj), cls=DjangoJSONEncoder, default=str))
    for field in obj._meta.concrete_fields:
        if field.name.endswith(ENCRYPTED_SUFFIX):
            stored = getattr(obj, field.attname) or ""
            snapshot[field.name.removesuffix(ENCRYPTED_SUFFIX)] = _digest(stored)
    return snapshot


def _digest(stored: str) -> str:
    """Which value is stored, as a short digest ("" for none): enough to see it change."""
    return f"set ({hashlib.sha256(stored.encode()).hexdigest()[:12]})" if stored else ""


def _query_items(request: HttpRequest) -> list[tuple[str, str]]:
    return [(key, value) for key, values in request.GET.lists() for value in values]


class AuditedAdmin(admin.ModelAdmin):
    """Every add, change and delete made through this admin lands in the audit log too, with the
    row before and after, beside Django's own LogEntry (which only superusers read, and which
    names no game). GameScopedAdmin's rows name their game; another model's entries name none
    (the deployment's own: operators, groups, login lock-outs), read by superusers."""

    # Fields whose value must never be written down (a password's hash): shown as a digest of
    # what is stored, as an encrypted field is, so a change is seen and nothing of it kept.
    digest_only: tuple[str, ...] = ()

    def _game_of(self, obj: Model) -> Any:
        return None

    def get_object(self, request: HttpRequest, object_id: str, from_field: Any = None) -> Any:
        obj = super().get_object(request, object_id, from_field)
        if obj is not None:
            self._remember_before(request, obj)
        return obj

    def _remember_before(self, request: HttpRequest, obj: Model) -> None:
        audited = cast(AuditedRequest, request)
        if not hasattr(audited, "_audit_before"):
            audited._audit_before = {}
        audited._audit_before[obj.pk] = self.snapshot_for_audit(obj)

    def log_addition(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        after = self.snapshot_for_audit(obj)
        self._audit(request, obj, "admin_add", before={}, after=after)
        return super().log_addition(request, obj, message)

    def log_change(self, request: HttpRequest, obj: Model, message: Any) -> Any:
        before = getattr(request, "_audit_before", {}).get(obj.pk, {})
        after = self.snapshot_for_audit(obj)
        if before != after:
            self._audit(request, obj, "admin_change", before=before, after=after)
        return super().log_change(request, obj, message)

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> Any:
        """Django's bulk delete in one transaction: it logs each deletion (our audit entries) and
        then deletes, with no transaction around the two, so a delete that failed left entries
        for deletions that never happened. Other actions keep their own transactions (a bulk
        ban commits, and revokes sessions, player by player; an action that queues a task
        queues it after its change is saved)."""
        if "delete_selected" not in request.POST.getlist("action"):
            return super().response_action(request, queryset)
        with transaction.atomic(using=router.db_for_write(self.model)):
            return super().response_action(request, queryset)

    def log_deletions(self, request: HttpRequest, queryset: QuerySet) -> Any:
        for obj in queryset:
            before = self.snapshot_for_audit(obj)  # what a deleted event granted, say
            self._audit(request, obj, "admin_delete", before=before, after={})
        return super().log_deletions(request, queryset)

    def snapshot_for_audit(self, obj: Model) -> dict[str, Any]:
        """The row and the rows its inlines edit (an event's rewards, a season's tiers, a
        board's brackets), each by its verbose name: a change made only in an inline shows."""
        snapshot = audit_snapshot(obj)
        for name in self.digest_only:
            snapshot[name] = _digest(str(getattr(obj, name) or ""))
        for inline in self.inlines:
            model = inline.model
            links = [
                field
                for field in model._meta.concrete_fields
                if field.many_to_one
                and field.related_model is self.model
                and inline.fk_name in (None, field.name)
            ]
            if len(links) == 1:
                rows = model._default_manager.filter(**{links[0].name: obj}).order_by("pk")
                snapshot[str(model._meta.verbose_name_plural)] = [audit_snapshot(r) for r in rows]
        return snapshot

    def _audit(self, request: HttpRequest, obj: Model, action: str, **change: Any) -> None:
        announce_action(
            actor=operator(request),
            game=self._game_of(obj),
            action=action,
            target=obj,
            **change,
        )


class GameScopedAdmin(AuditedAdmin):
    """For models with a path to their game (`game_path`, e.g. "game" or "player__game")."""

    game_path = "game"
    write_roles = WRITE_ROLES
    # Identifiers other rows and clients name as text (a currency's code, an item's SKU, a
    # stat's key): fixed once saved, shown read-only on the change form.
    fixed_once_saved: tuple[str, ...] = ()

    def _game_ids(self, request: HttpRequest, roles: frozenset[str]) -> set[int]:
        cache_attr = f"_gp_games_{'_'.join(sorted(roles))}"
        if not hasattr(request, cache_attr):
            setattr(
                request,
                cache_attr,
                set(games_for_user(request.user, roles=roles).values_list("pk", flat=True)),
            )
        return getattr(request, cache_attr)

    def get_changelist_instance(self, request: HttpRequest) -> Any:
        """A list whose query string holds U+0000 (which no stored text holds, and PostgreSQL
        refuses in a query: a 500) is Django's "invalid filter" answer, for every filter at once,
        Django's own lookups included."""
        if any("\x00" in key or "\x00" in value for key, value in _query_items(request)):
            raise IncorrectLookupParameters("U+0000 in the query string.")
        return super().get_changelist_instance(request)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        """A row's game is set when it is made and never changed: a currency, an offer or an
        event moved to another game would leave the rows that name it (wallets, ledger entries,
        purchases, claims) in the old game, and hand them to the new game's operators."""
        fields = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return fields
        fixed = [*self.fixed_once_saved, *(["game"] if self.game_path == "game" else [])]
        return fields + [name for name in fixed if name not in fields]

    def get_form(
        self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        if obj is None or self.game_path != "game" or "game" in form.base_fields:
            return form
        return type(form.__name__, (ChecksUniqueWithItsGame, form), {})

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

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)
        if sees_every_game(request.user):
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
        if change and obj.pk not in getattr(request, "_audit_before", {}):
            # A row saved from the list page (list_editable) was never loaded by get_object:
            # the form has already changed this instance, so the row as stored is read.
            stored = type(obj)._default_manager.filter(pk=obj.pk).first()
            if stored is not None:
                self._remember_before(request, stored)
        super().save_model(request, obj, form, change)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        if not self._can_write(request, obj):
            raise PermissionDenied
        super().delete_model(request, obj)

    def deletion_refusals(self, objs: list[Any]) -> list[str]:
        """Why some of these rows are kept, one sentence each; none by default. Django's delete
        page and bulk delete then answer "Cannot delete" with the reasons, as for a protected
        foreign key, and delete nothing."""
        return []

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        """The refusals first: a refused delete answers with them alone, without Django's
        collector, which loads every row the delete would cascade to (a leaderboard with 2M
        entries: minutes and gigabytes) only to list them on a page that deletes nothing."""
        rows = list(objs)
        refusals = self.deletion_refusals(rows)
        if refusals:
            return [], {}, set(), refusals
        return super().get_deleted_objects(rows, request)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scope_choices(db_field, request, self.write_roles, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_list_filter(self, request: HttpRequest) -> Any:
        return [self._scoped_filter(entry) for entry in super().get_list_filter(request)]

    def _scoped_filter(self, entry: Any) -> Any:
        if isinstance(entry, str) and field_at(self.model, entry).is_relation:
            return (entry, ScopedRelatedFilter)
        return entry


@cache
def game_path_of(model: type[Model]) -> str | None:
    """The lookup from a model to its game ("pk" for a game, "season__game" for a tier), along
    foreign keys, shortest first; None when the model belongs to no game (e.g. a user)."""
    queue: deque[tuple[type[Model], str, int]] = deque([(model, "", 0)])
    while queue:
        current, path, depth = queue.popleft()
        if current is Game:
            return path or "pk"
        if depth == 3:
            continue
        for field in current._meta.get_fields():
            target = field.related_model
            # A concrete foreign key's target is a model class ("self" is resolved by then).
            if field.many_to_one and field.concrete and isinstance(target, type):
                step = f"{path}__{field.name}" if path else field.name
                queue.append((target, step, depth + 1))
    return None


def scope_choices(
    db_field: Any, request: HttpRequest, roles: frozenset[str], kwargs: dict[str, Any]
) -> None:
    """A game, category, season, period or player of another tenant is never offered as a
    choice: a foreign key's choices are the rows of the games the user may write."""
    if sees_every_game(request.user):
        return
    scoped = objects_of_games(db_field.related_model, games_for_user(request.user, roles=roles))
    if scoped is not None:
        kwargs["queryset"] = scoped


def objects_of_games(model: type[Model], games: QuerySet[Game]) -> QuerySet | None:
    """The rows of `model` that belong to one of `games`; None for a model outside any game."""
    path = game_path_of(model)
    if path is None:
        return None
    return model._default_manager.filter(**{f"{path}__in": games})


class ScopedRelatedFilter(admin.RelatedFieldListFilter):
    """A list filter on a relation that offers only the user's games and their objects: Django's
    own offers every row of the related table, other tenants' names included."""

    def field_choices(self, field: Any, request: HttpRequest, model_admin: Any) -> Any:
        if sees_every_game(request.user):
            return super().field_choices(field, request, model_admin)
        scoped = objects_of_games(field.related_model, games_for_user(request.user))
        if scoped is None:  # not a game's object: only what the rows the user sees point at
            pks: Any = model_admin.get_queryset(request).values(
                f"{self.field_path}__{field.target_field.name}"
            )
        else:
            pks = scoped.values("pk")
        return field.get_choices(
            include_blank=False,
            limit_choices_to={"pk__in": pks},
            ordering=self.field_admin_ordering(field, request, model_admin),
        )


def field_at(model: type[Model], path: str) -> Any:
    """The field a lookup path ("player__id") ends at, through the model's documented _meta."""
    field: Any = None
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.is_relation:
            model = field.related_model
    return field


class WholeValueSearch(admin.ModelAdmin):
    """Search that a big table answers from its indexes. Each of `search_fields` is written as
    Django's exact search ("=path") and matched against the whole term, spaces included: a number
    column only when the term is a whole number, a text column as written (case included). Django
    compares UPPER(column::text) for "=", which no index serves, and ORs in its substring
    searches, which read the whole table. List only columns an index leads with: the matches are
    OR'ed, and one that no index answers has the whole table read for all of them."""

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        term = search_term.strip()
        if len(term) > 1 and term[0] == term[-1] and term[0] in "\"'":
            term = term[1:-1]  # a quoted phrase, as Django's search box takes it
        if not term:
            return queryset, False
        matches = self.search_matches(request, term)
        if not matches:
            return queryset.none(), False
        return queryset.filter(reduce(operator_or, matches)), False

    def search_matches(self, request: HttpRequest, term: str) -> list[Q]:
        """What the term may be: one condition for each search field that can hold it."""
        matches = []
        for spec in self.get_search_fields(request):
            path = str(spec).removeprefix("=")
            field = field_at(self.model, path)
            try:
                value = field.to_python(term)
                field.run_validators(value)  # too long for the column, out of its range
            except ValidationError:
                continue
            matches.append(Q(**{path: value}))
        return matches


def fixed_choices_filter(
    column: str, values: Sequence[tuple[str, str]]
) -> type[admin.SimpleListFilter]:
    """A list filter on a text column offering the values given here: Django's own, for a column
    without choices, reads them with a DISTINCT over the whole table on every page load. A value
    not offered (a link's, an older row's) still filters, exactly; the parameter is Django's own
    (`column__exact`), so links made for its filter keep working."""

    class FixedChoicesFilter(admin.SimpleListFilter):
        title = column.replace("_", " ")
        parameter_name = f"{column}__exact"

        def lookups(self, request: HttpRequest, model_admin: Any) -> Sequence[tuple[str, str]]:
            return values

        def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
            value = self.value()
            return queryset if value is None else queryset.filter(**{column: value})

    return FixedChoicesFilter


class AtLeast(int):
    """A count that stopped at its cap: it reads "10000+" wherever the admin prints it (the
    list's total, its search's result count, "Select all 10000+ …"), and counts as the cap."""

    def __str__(self) -> str:
        return f"{int(self)}+"


class CappedCountPaginator(Paginator):
    """A big table's admin list (`ModelAdmin.paginator`): it counts at most `max_pages` pages'
    worth of rows, SELECT COUNT(*) over a LIMIT'ed subquery without its sort, instead of every
    row the list's filters let through (a full scan of a big table on each unfiltered page).
    Past the cap the total reads "10000+", the page links stop at `max_pages` (a page further
    on is an OFFSET that reads every row before it), and "Show all" is not offered as long as
    the cap is above the list's `list_max_show_all` (tests hold every such list to that).
    Filters and the search reach the rows further on; a selection "across all pages" still acts
    on every row."""

    max_pages = 100

    @cached_property
    def count(self) -> int:
        cap = self.per_page * self.max_pages
        rows = self.object_list
        # Unsorted: the database stops at the cap's row, whatever the list is sorted by.
        found = rows.order_by()[: cap + 1].count() if isinstance(rows, QuerySet) else len(rows)
        return AtLeast(cap) if found > cap else found


class ChecksUniqueWithItsGame(ModelForm):
    """A change form whose row's game is read-only (not a form field): Django leaves out every
    uniqueness rule that names a field the form lacks, so a code taken in this game (`gold`
    renamed to an existing `gems`) would reach the database and fail there, a 500. Its rules
    that name the game are checked here with the row's own game, as the form's errors."""

    def validate_unique(self) -> None:
        super().validate_unique()
        # What Django left out (fields not on the form, fields already refused), but the game.
        exclude = {
            field.name
            for field in self.instance._meta.concrete_fields
            if field.name != "game" and (field.name not in self.fields or field.name in self.errors)
        }
        try:
            self.instance.validate_unique(exclude=exclude)
            self.instance.validate_constraints(exclude=exclude)
        except ValidationError as refused:
            said = {str(message) for messages in self.errors.values() for message in messages}
            for field, messages in refused.message_dict.items():
                new = [message for message in messages if message not in said]
                if new:
                    self.add_error(field if field in self.fields else None, new)


class ParentAttachedFormSet(BaseInlineFormSet):
    """Each row knows its parent as the form edits it, before either is saved: a model's clean()
    that checks a row against its parent's game (a bracket's currencies, a tier's items) then
    runs on the add form too, where the parent has no id yet (Django sets only the id)."""

    def add_fields(self, form: ModelForm, index: int | None) -> None:
        super().add_fields(form, index)
        setattr(form.instance, self.fk.name, self.instance)


class ScopedInline(admin.TabularInline):
    """Inlines follow their parent's permissions (the parent admin already checked the game)."""

    extra = 0
    formset = ParentAttachedFormSet

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

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        scope_choices(db_field, request, WRITE_ROLES, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ReadOnlyScopedAdmin(GameScopedAdmin):
    """Ledgers, purchases, matches: visible to the game's people, changed only by services."""

    def has_add_permission(self, request: HttpRequest, *args: Any) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Model | None = None) -> bool:
        return False
