from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    ScopedInline,
    WholeValueSearch,
)
from apps.battlepass.authoring import (
    clone_season,
    generate_tiers,
    lock_for_deletion,
    tier_plan,
)
from apps.battlepass.forms import ClaimedTiersFormSet, GenerateTiersForm, RisingXpFormSet
from apps.battlepass.models import Season, SeasonPass, Tier, TierClaim
from apps.inventory.models import Currency, ItemDefinition
from apps.inventory.widgets import ContentsEditorMixin
from gamingpanel.errors import DomainError

PLAYER_SEARCH_HELP = "A player id (the player list finds players by name)."


class TierInline(ContentsEditorMixin, ScopedInline):
    contents_fields = ("free_reward", "premium_reward")
    model = Tier
    fields = ["level", "xp_required", "free_reward", "premium_reward"]
    ordering = ["level"]

    def get_formset(self, request: HttpRequest, obj: Season | None = None, **kwargs: Any) -> Any:
        # The rising-XP and claimed-tier checks on top of the formset every scoped inline uses.
        kwargs.setdefault(
            "formset",
            type("TierFormSet", (RisingXpFormSet, ClaimedTiersFormSet, self.formset), {}),
        )
        return super().get_formset(request, obj, **kwargs)


@admin.register(Season)
class SeasonAdmin(GameScopedAdmin):
    list_display = ["name", "game", "starts_at", "ends_at", "running_now", "tier_tools"]
    list_filter = ["game"]
    search_fields = ["name"]
    date_hierarchy = "starts_at"
    ordering = ["-starts_at"]
    inlines = [TierInline]
    actions = ["clone_selected"]

    def get_urls(self) -> list:
        return [
            path(
                "<int:season_id>/generate-tiers/",
                self.admin_site.admin_view(self.generate_tiers_view),
                name="battlepass_season_generate_tiers",
            ),
            *super().get_urls(),
        ]

    @admin.display(description="Tiers")
    def tier_tools(self, obj: Season) -> str:
        url = reverse("admin:battlepass_season_generate_tiers", args=[obj.pk])
        return format_html('<a href="{}">Generate tiers…</a>', url)

    @admin.action(
        description="Clone the selected seasons as next seasons (tiers included)",
        permissions=["change"],
    )
    def clone_selected(self, request: HttpRequest, queryset) -> None:
        # All or none: a copy that would end past the year 9999 refuses the action, and each
        # copy is placed after the one before, so the rest would not fit either.
        try:
            with transaction.atomic():
                copies = [
                    clone_season(season=season, actor=request.user)  # type: ignore[arg-type]
                    for season in queryset.order_by("starts_at")
                    if self.has_change_permission(request, season)
                ]
        except ValidationError as error:
            messages.error(request, f"Nothing cloned: {' '.join(error.messages)}")
            return
        self.message_user(request, f"Cloned {len(copies)} season(s), each after the last season.")

    def generate_tiers_view(self, request: HttpRequest, season_id: int) -> HttpResponse:
        season = self.get_queryset(request).filter(pk=season_id).first()
        if season is None:
            raise Http404("No such season.")
        if not self.has_change_permission(request, season):
            raise PermissionDenied
        targets = {
            "currencies": list(
                Currency.objects.filter(game_id=season.game_id).values_list("code", flat=True)
            ),
            "items": list(
                ItemDefinition.objects.filter(game_id=season.game_id).values_list("sku", flat=True)
            ),
        }
        form = GenerateTiersForm(request.POST or None, **targets)
        plan = None
        if request.method == "POST" and form.is_valid():
            if "generate" in request.POST:
                try:
                    tiers = generate_tiers(
                        season=season,
                        pattern=form.pattern(),
                        actor=request.user,  # type: ignore[arg-type]
                    )
                except (DomainError, ValidationError) as error:
                    messages.error(request, f"Nothing changed: {getattr(error, 'detail', error)}")
                else:
                    messages.success(request, f"{season} now has {len(tiers)} tiers.")
                    return redirect("admin:battlepass_season_change", season.pk)
            plan = tier_plan(form.pattern())
        context = {
            **self.admin_site.each_context(request),
            "title": f"Generate tiers for {season}",
            "season": season,
            "form": form,
            "plan": plan,
            "existing": season.tiers.count(),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/battlepass/season/generate_tiers.html", context)

    # The season's tiers are locked before its claims are looked for (lock_for_deletion; the
    # delete page and the bulk delete each run in one transaction): a claim under way is waited
    # for and then protects its tier here, where it was unseen and the deletion failed at commit
    # on the claim's foreign key (a 500). Django shows the page of a GET outside any
    # transaction: nothing is deleted then, and nothing is locked.
    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> Any:
        if transaction.get_connection().in_atomic_block:
            lock_for_deletion([obj.pk for obj in objs])
        return super().get_deleted_objects(objs, request)

    def delete_model(self, request: HttpRequest, obj: Model) -> None:
        lock_for_deletion([obj.pk])  # held already when the delete page asked (same transaction)
        super().delete_model(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        lock_for_deletion(queryset.values_list("pk", flat=True))
        super().delete_queryset(request, queryset)

    @admin.display(boolean=True, description="Running now")
    def running_now(self, obj: Season) -> bool:
        return obj.starts_at <= timezone.now() < obj.ends_at


@admin.register(SeasonPass)
class SeasonPassAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per player per season: no count of every pass, and a search by player id (the
    passes' index leads with it)."""

    game_path = "season__game"
    list_display = ["player", "season", "xp", "premium", "premium_granted_at"]
    list_filter = ["season__game", "season", "premium"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "season"]
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(TierClaim)
class TierClaimAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A row per claimed tier per track of every player: no count of every claim, and a search
    by player id (the claims' index leads with it)."""

    game_path = "tier__season__game"
    list_display = ["player", "tier", "track", "claimed_at"]
    list_filter = ["tier__season__game", "track"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "tier__season"]
    show_full_result_count = False
    paginator = CappedCountPaginator
