"""Currencies and items (operators edit), wallets, holdings and the ledger (read-only), and the
"grant or revoke" form, which goes through the ledger service with the operator as the actor."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core import signing
from django.core.exceptions import PermissionDenied
from django.db import connection, transaction
from django.db.models import Model, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
    fixed_choices_filter,
    operator,
)
from apps.accounts.models import Player
from apps.accounts.selectors import WRITE_ROLES, games_for_user
from apps.inventory.models import Currency, ItemDefinition, LedgerEntry, PlayerItem, Wallet
from apps.inventory.selectors import operator_key_uses, starting_grant_amounts
from apps.inventory.services import (
    Change,
    follow_currency_cap,
    follow_item_limit,
    operator_adjust,
)
from gamingpanel.errors import DomainError

PLAYER_SEARCH_HELP = "A player id (the player list finds players by name)."

# The reasons the services write (the ledger takes any): a value not listed still filters by URL.
# tests/inventory/test_admin_list_queries.py holds this list to the reasons the code writes.
LEDGER_REASONS = [
    (reason, reason)
    for reason in (
        "starting_grant",
        "purchase",
        "refund",
        "chargeback",
        "operator_grant",
        "operator_revoke",
        "event_reward",
        "battlepass_tier",
        "leaderboard_reward",
    )
]


@admin.register(Currency)
class CurrencyAdmin(GameScopedAdmin):
    fixed_once_saved = ("code",)
    list_display = ["code", "name", "cap", "game"]
    list_filter = ["game"]
    search_fields = ["code", "name"]

    def deletion_refusals(self, currencies: list[Any]) -> list[str]:
        """A currency the game's starting grant gives is kept, as its code and cap are (see
        Currency.clean): every new player's first login pays the grant, and would fail."""
        granted = starting_grant_amounts(currencies=currencies)
        return [
            f"The starting grant of {currency.game} ({granted[currency.pk]} {currency.code} "
            "for every new player): without the currency every first login would fail. Take "
            f"{currency.code} out of the grant on the game's page first."
            for currency in currencies
            if currency.pk in granted
        ]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "cap" in form.changed_data:
            assert isinstance(obj, Currency)
            follow_currency_cap(currency=obj)  # the wallets made before hold a copy


@admin.register(ItemDefinition)
class ItemDefinitionAdmin(GameScopedAdmin):
    fixed_once_saved = ("sku",)
    list_display = ["sku", "name", "kind", "max_stack", "game"]
    list_filter = ["game", "kind"]
    search_fields = ["sku", "name"]

    def save_model(self, request: HttpRequest, obj: Model, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and {"kind", "max_stack"} & set(form.changed_data):
            assert isinstance(obj, ItemDefinition)
            follow_item_limit(item=obj)  # the holdings made before hold a copy


class GrantForm(forms.Form):
    player = forms.IntegerField(label="Player id", min_value=1)
    kind = forms.ChoiceField(choices=[("currency", "Currency"), ("item", "Item")])
    code = forms.SlugField(label="Currency code or item SKU", max_length=64)
    delta = forms.IntegerField(
        label="Amount", help_text="Positive grants, negative revokes (never below zero)."
    )
    note = forms.CharField(label="Reason", max_length=300)
    # One form, one ledger change: the page signs a UUID with the operator it is shown to and
    # when (form_key); the ledger key is "operator:<UUID>".
    nonce = forms.CharField(widget=forms.HiddenInput, max_length=128)


# A form's key names one change to one player, as the panel's OperatorKey does: sent again for
# that change it replays it; sent for another (another player, code, amount or direction) it is
# refused and the first stands. The ledger's own key is per player, so without this the form's
# key sent again for another player applied that too. The key is signed with the operator and
# the time it was shown: its earlier use is then among that operator's ledger entries since
# then (operator_key_uses, an indexed read however big the ledger), and a form is good for
# GRANT_FORM_MAX_AGE (CLOCK_SKEW: between the server that showed it and the one writing).
GRANT_FORM_MAX_AGE = timedelta(days=1)
CLOCK_SKEW = timedelta(minutes=5)
_FORM_KEYS = signing.Signer(salt="apps.inventory.admin.grant")
FORM_KEY_INVALID = (
    "This form is older than a day, or was not shown to you: nothing changed. Open Grant or "
    "revoke again for a new one."
)
FORM_KEY_REUSED = (
    "That form was already used for another grant or revoke, which stays as it was: nothing "
    "changed. Open Grant or revoke again for a new one."
)


def form_key(user_id: int) -> str:
    """A new form's key, for this operator, shown now."""
    return _FORM_KEYS.sign(f"{user_id}.{uuid.uuid4().hex}.{int(timezone.now().timestamp())}")


def read_form_key(signed: str, user_id: int) -> tuple[str, datetime] | None:
    """The form's UUID and when it was shown, if it was shown to this operator less than
    GRANT_FORM_MAX_AGE ago; None otherwise (made up, another operator's, or too old)."""
    try:
        owner, nonce, shown = _FORM_KEYS.unsign(signed).split(".")
    except (signing.BadSignature, ValueError):
        return None
    shown_at = datetime.fromtimestamp(int(shown), tz=UTC)
    if owner != str(user_id) or timezone.now() - shown_at > GRANT_FORM_MAX_AGE:
        return None
    return nonce, shown_at


@admin.register(Wallet)
class WalletAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    game_path = "player__game"
    list_display = ["player", "currency", "balance", "cap", "grant_link"]
    list_filter = ["currency__game", "currency"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "currency"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    actions = ["grant_or_revoke"]

    def get_urls(self) -> list:
        view = self.admin_site.admin_view(self.grant_view)
        return [path("grant/", view, name="inventory_wallet_grant"), *super().get_urls()]

    @admin.display(description="")
    def grant_link(self, obj: Wallet) -> str:
        url = reverse("admin:inventory_wallet_grant")
        return format_html('<a href="{}?player={}">Grant or revoke…</a>', url, obj.player_id)

    @admin.action(description="Grant or revoke for the selected wallet's player")
    def grant_or_revoke(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse:
        wallet = queryset.first()
        assert wallet is not None  # the admin runs an action on a selection only
        url = reverse("admin:inventory_wallet_grant")
        return HttpResponseRedirect(f"{url}?player={wallet.player_id}&code={wallet.currency.code}")

    def grant_view(self, request: HttpRequest) -> HttpResponse:
        if not games_for_user(request.user, roles=WRITE_ROLES).exists():
            raise PermissionDenied
        if request.method == "POST":
            form = GrantForm(request.POST)
            if form.is_valid() and self._grant(request, form):
                player_id = form.cleaned_data["player"]
                url = reverse("admin:inventory_ledgerentry_changelist")
                return HttpResponseRedirect(f"{url}?player__id__exact={player_id}")
        else:
            form = GrantForm(
                initial={
                    "player": request.GET.get("player"),
                    "code": request.GET.get("code"),
                    "nonce": form_key(operator(request).pk),
                }
            )
        context = {
            **self.admin_site.each_context(request),
            "title": "Grant or revoke",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/grant.html", context)

    def _grant(self, request: HttpRequest, form: GrantForm) -> bool:
        data = form.cleaned_data
        writable = games_for_user(request.user, roles=WRITE_ROLES)
        player = Player.objects.filter(pk=data["player"], game__in=writable).first()
        if player is None:
            form.add_error("player", "No such player in a game you may change.")
            return False
        actor = operator(request)
        read = read_form_key(data["nonce"], actor.pk)
        if read is None:
            form.add_error(None, FORM_KEY_INVALID)
            return False
        nonce, shown_at = read
        key = f"operator:{nonce}"
        asked = (player.pk, data["kind"], data["code"], data["delta"])
        try:
            with transaction.atomic():
                _hold_form_key(key)
                used = operator_key_uses(
                    actor_id=actor.pk, operation_key=key, since=shown_at - CLOCK_SKEW
                )
                if used and used != [asked]:
                    form.add_error(None, FORM_KEY_REUSED)
                    return False
                result = operator_adjust(
                    actor=actor,
                    player=player,
                    change=Change(data["kind"], data["code"], data["delta"]),
                    note=data["note"],
                    idempotency_key=key,
                )
        except DomainError as error:
            form.add_error(None, error.detail)
            return False
        if result.replayed:
            # The same form again (Back, then submit): what it did the first time stands.
            self.message_user(
                request,
                "That form was already submitted; nothing changed. Open Grant or revoke again "
                "for a new one.",
                level=messages.WARNING,
            )
        else:
            self.message_user(request, f"Done: {data['delta']:+d} {data['code']} for {player}.")
        return True


def _hold_form_key(key: str) -> None:
    """Until the transaction ends, the one form key: the same form sent twice at once (for two
    players, say) is looked up and applied one after the other, the second seeing the first's
    entries. SQLite serialises writers on the whole database instead."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", [key])


@admin.register(PlayerItem)
class PlayerItemAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    game_path = "player__game"
    list_display = ["player", "item", "quantity", "limit"]
    list_filter = ["item__game", "item"]
    search_fields = ["=player__id"]
    search_help_text = PLAYER_SEARCH_HELP
    list_select_related = ["player", "item"]
    show_full_result_count = False
    paginator = CappedCountPaginator


@admin.register(LedgerEntry)
class LedgerEntryAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A game's biggest table: no count of every entry, no date drill-down (both read all of
    it), reasons from a fixed list, dates from the filter's fixed ranges (indexed), and a search
    its indexes answer."""

    list_display = [
        "created_at",
        "player",
        "what",
        "delta",
        "balance_after",
        "reason",
        "reference",
        "actor",
    ]
    list_filter = ["game", fixed_choices_filter("reason", LEDGER_REASONS), "created_at"]
    # No index leads with idempotency_key (it follows the player in its unique constraint).
    search_fields = ["=player__id", "=reference"]
    search_help_text = "A player id, or a whole reference as written (e.g. purchase:42)."
    list_select_related = ["player", "currency", "item", "actor"]
    show_full_result_count = False
    paginator = CappedCountPaginator

    @admin.display(description="Currency / item")
    def what(self, obj: LedgerEntry) -> str:
        return obj.code
