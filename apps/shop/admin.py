"""Catalogue (operators edit, with a preview of what a player sees) and purchases (read-only,
with their ledger entries)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.utils import timezone
from django.utils.html import format_html, format_html_join

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
    fixed_choices_filter,
)
from apps.inventory.models import Currency
from apps.inventory.selectors import ledger_for_reference
from apps.inventory.widgets import ContentsEditorMixin
from apps.payments.admin import without_purchase_token
from apps.payments.models import Payment, Provider
from apps.shop.forms import (
    COMMON_ISO_CURRENCIES,
    CurrencyCodeInput,
    OfferAdminForm,
    currency_exponent,
)
from apps.shop.models import Category, Offer, Purchase
from apps.shop.selectors import offer_counts
from apps.shop.services import rules
from apps.shop.services.authoring import clone_offer
from apps.shop.services.limits import limit_saved


@admin.register(Category)
class CategoryAdmin(GameScopedAdmin):
    list_display = ["name", "game", "position", "active", "visible_from", "visible_until"]
    list_filter = ["game", "active"]
    list_editable = ["position", "active"]
    search_fields = ["name"]

    def deletion_refusals(self, categories: list[Any]) -> list[str]:
        """A category that holds offers is kept: its offers would be left in no category, where
        only their own window is judged, so a switched-off category's offers would sell again.
        Refused rather than switching them off too: what sells stays the operator's explicit
        choice."""
        held = offer_counts(categories=categories)
        return [
            f"{held[category.pk]} offer(s) in “{category}”: without it they would be sold "
            "whenever their own window is open. Move them to another category or delete them "
            "first (unticking “Active” takes the category and its offers off sale)."
            for category in categories
            if category.pk in held
        ]


@admin.register(Offer)
class OfferAdmin(ContentsEditorMixin, GameScopedAdmin):
    list_display = [
        "name",
        "category",
        "price_shown",
        "real_money",
        "active",
        "available_until",
        "per_player_limit",
        "stock",
        "game",
    ]
    list_filter = ["game", "category", "real_money", "active"]
    list_select_related = ["game", "category"]  # category is nullable: not joined by default
    search_fields = ["name", "apple_product_id", "google_product_id"]
    form = OfferAdminForm
    readonly_fields = ["player_preview"]
    actions = ["clone_selected"]
    fieldsets = [
        (None, {"fields": ["game", "category", "name", "description", "position", "active"]}),
        ("Price", {"fields": ["real_money", "price_currency", "price", "price_amount"]}),
        ("Contents", {"fields": ["contents"]}),
        (
            "Availability",
            {"fields": ["available_from", "available_until", "per_player_limit", "stock"]},
        ),
        (
            "Platform stores",
            {"fields": ["apple_product_id", "google_product_id", "store_consumable"]},
        ),
        ("What a player sees", {"fields": ["player_preview"]}),
    ]

    @admin.display(description="Price")
    def price_shown(self, offer: Offer) -> str:
        exponent = currency_exponent(offer.price_currency, real_money=offer.real_money)
        return f"{Decimal(offer.price_amount).scaleb(-exponent)} {offer.price_currency}"

    def formfield_for_dbfield(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name == "price_currency":
            games = self._game_ids(request, self.write_roles)
            virtual = Currency.objects.filter(game_id__in=games).order_by("code")
            codes = [*virtual.values_list("code", flat=True), *COMMON_ISO_CURRENCIES]
            kwargs["widget"] = CurrencyCodeInput(list(dict.fromkeys(codes)))
        return super().formfield_for_dbfield(db_field, request, **kwargs)

    def save_model(self, request: Any, obj: Any, form: Any, change: bool) -> None:
        super().save_model(request, obj, form, change)
        if change and "per_player_limit" in form.changed_data:
            # A limit set on an offer that sold already counts those sales (in the catalogue as
            # in a purchase), in this save's transaction.
            limit_saved(offer_id=obj.pk, limit=obj.per_player_limit)

    @admin.action(
        description="Clone the selected offers (copies start inactive)", permissions=["change"]
    )
    def clone_selected(self, request, queryset) -> None:
        copies = [
            clone_offer(offer=offer, actor=request.user)
            for offer in queryset
            if self.has_change_permission(request, offer)
        ]
        self.message_user(request, f"Cloned {len(copies)} offer(s); the copies are inactive.")

    @admin.display(description="Preview (GET shop/categories)")
    def player_preview(self, offer: Offer) -> str:
        if offer.pk is None:
            return "Save the offer to preview it."
        shown = {
            "id": offer.pk,
            "name": offer.name,
            "price": {
                "currency": offer.price_currency,
                "amount": offer.price_amount,
                "real_money": offer.real_money,
            },
            "contents": offer.contents,
            "remaining_purchases": offer.per_player_limit,
            "available_until": ends.isoformat() if (ends := rules.sale_end(offer)) else None,
        }
        # A first unit for a player who bought none yet, as the catalogue asks the rules.
        refused = rules.refusal(rules.Sale(offer=offer, quantity=1, bought=0, now=timezone.now()))
        state = "listed now" if refused is None else f"NOT listed now ({refused.detail})"
        return format_html("<p>{}</p><pre>{}</pre>", state, json.dumps(shown, indent=2))


@admin.register(Purchase)
class PurchaseAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    """A big table: no count of every purchase, no date drill-down (both read all of it), the
    providers from their fixed list, and a search its indexes answer."""

    list_display = [
        "id",
        "created_at",
        "player",
        "offer",
        "quantity",
        "status",
        "price_amount",
        "price_currency",
        "provider",
        "needs_attention",
    ]
    list_filter = [
        "game",
        "status",
        "needs_attention",
        "real_money",
        fixed_choices_filter("provider", Provider.choices),
        "source",
    ]
    # No index leads with idempotency_key (it follows the player in its unique constraint).
    search_fields = ["=id", "=player__id"]
    search_help_text = "A purchase id or a player id."
    list_select_related = ["player", "offer"]
    show_full_result_count = False
    paginator = CappedCountPaginator
    # A Google Play purchase without an orderId is keyed by its purchase token ("google_play§
    # <token>"), which its stored answer repeats: the player's credential, shown masked as the
    # payments admin shows it.
    fields = [
        "game",
        "player",
        "offer",
        "quantity",
        "source",
        "status",
        "shown_idempotency_key",
        "request_hash",
        "real_money",
        "price_currency",
        "price_amount",
        "provider",
        "granted",
        "bought",
        "reserved_stock",
        "reserved_slots",
        "response_status",
        "shown_response_body",
        "refund_shortfall",
        "needs_attention",
        "note",
        "outcome",
        "completed_at",
        "refunded_at",
        "ledger_entries",
    ]
    readonly_fields = ["shown_idempotency_key", "shown_response_body", "ledger_entries"]

    @admin.display(description="Idempotency key")
    def shown_idempotency_key(self, purchase: Purchase) -> str:
        return without_purchase_token(purchase.idempotency_key, _payment_of(purchase)) or "—"

    @admin.display(description="Response body")
    def shown_response_body(self, purchase: Purchase) -> str:
        if purchase.response_body is None:
            return "—"
        shown = json.dumps(purchase.response_body, ensure_ascii=False)
        return without_purchase_token(shown, _payment_of(purchase))

    @admin.display(description="Ledger entries")
    def ledger_entries(self, purchase: Purchase) -> str:
        entries = ledger_for_reference(
            player_id=purchase.player_id, reference=purchase.ledger_reference
        )
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    e.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                    e.code,
                    f"{e.delta:+d}",
                    e.balance_after,
                    e.reason,
                )
                for e in entries
            ),
        )
        if not rows:
            return "—"
        return format_html(
            "<table><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>{}</table>",
            "When",
            "What",
            "Delta",
            "After",
            "Reason",
            rows,
        )


def _payment_of(purchase: Purchase) -> Payment | None:
    """The purchase's payment (None for a virtual one), read once per page."""
    if not purchase.real_money:
        return None
    try:
        return purchase.payment
    except Payment.DoesNotExist:
        return None
