"""The catalogue (categories, offers) and what players bought (purchases)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.accounts.models import Game, Player
from apps.shop.validation import validate_offer


class Category(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="shop_categories")
    name = models.CharField(max_length=100)
    position = models.IntegerField(default=0, help_text="Lower comes first.")
    active = models.BooleanField(default=True)
    visible_from = models.DateTimeField(null=True, blank=True)
    visible_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["game", "position", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.visible_from and self.visible_until and self.visible_until <= self.visible_from:
            raise ValidationError({"visible_until": "A category's window ends after it starts."})


STORE_PRODUCT_FIELDS = ("apple_product_id", "google_product_id")


class Offer(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="offers")
    category = models.ForeignKey(
        Category, on_delete=models.SET_NULL, null=True, blank=True, related_name="offers"
    )
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    position = models.IntegerField(default=0)
    active = models.BooleanField(default=True)
    real_money = models.BooleanField(
        default=False, help_text="Paid through a payment processor or a platform store."
    )
    price_currency = models.CharField(
        max_length=32, help_text="A virtual currency code, or an ISO 4217 code for real money."
    )
    price_amount = models.BigIntegerField(
        help_text="Units of the currency; real money: minor units."
    )
    contents = models.JSONField(
        default=list,
        help_text='[{"currency": "gold", "quantity": 100}, {"sku": "sword", "quantity": 1}, '
        '{"battlepass_premium": <season id>}]',
    )
    available_from = models.DateTimeField(null=True, blank=True)
    available_until = models.DateTimeField(null=True, blank=True)
    per_player_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = none.")
    stock = models.BigIntegerField(
        null=True, blank=True, help_text="Units left; empty = unlimited."
    )
    apple_product_id = models.CharField(max_length=200, blank=True)
    google_product_id = models.CharField(max_length=200, blank=True)
    store_consumable = models.BooleanField(
        default=True,
        help_text="Google Play: consume after granting (buyable again); off = acknowledge only.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "position", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="offer_price_gte_0"),
            models.CheckConstraint(
                condition=Q(stock__isnull=True) | Q(stock__gte=0), name="offer_stock_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors = validate_offer(self)
        for field, message in self._store_products_taken().items():
            errors.setdefault(field, []).append(message)
        if errors:
            raise ValidationError(errors)

    def _store_products_taken(self) -> dict[str, str]:
        """A receipt names only the store's product, so each product belongs to one offer of
        the game (not a database constraint: rows saved before this check may share one, and
        the receipt service refuses those until an operator fixes them)."""
        if self.game_id is None:
            return {}
        taken = {}
        for field in STORE_PRODUCT_FIELDS:
            product_id = getattr(self, field)
            if not product_id:
                continue
            other = (
                Offer.objects.filter(game_id=self.game_id, **{field: product_id})
                .exclude(pk=self.pk)
                .order_by("pk")
                .first()
            )
            if other is not None:
                taken[field] = (
                    f"Offer {other.name!r} (id {other.pk}) already sells the store product "
                    f"{product_id!r}: a receipt names only the product, so it can belong to one "
                    "offer of this game. Clear it there first, or use another product id."
                )
        return taken


def spend_rule(through: str = "") -> Q:
    """The purchases that make up a player's spend (counted per currency): real-money ones paid
    and kept (a refund turns one to "refunded"; pending, failed and expired ones were never
    paid). `through`: the path from the queried model, "purchases__" from a player. The panel's
    spend filter and sort count these, and Purchase's purchase_spend index holds them: one rule
    for both, or PostgreSQL does not use the index."""
    return Q(**{f"{through}status": "completed", f"{through}real_money": True})


class Purchase(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        COMPLETED = "completed", "Completed"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired (never paid)"
        REFUNDED = "refunded", "Refunded"

    class Source(models.TextChoices):
        SHOP = "shop", "Shop API"
        RECEIPT = "receipt", "Store receipt"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="purchases")
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="purchases")
    quantity = models.PositiveIntegerField(default=1)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.SHOP)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    # A client's Idempotency-Key (printable ASCII, up to 150), or a store purchase's
    # "<provider>§<transaction id>" (receipts.store_purchase_key), which no client key can be.
    # No wider: a wider varchar rebuilds purchase_once_per_key (docs/operations.md).
    idempotency_key = models.CharField(max_length=200, blank=True)
    request_hash = models.CharField(max_length=64, blank=True)
    real_money = models.BooleanField(default=False)
    price_currency = models.CharField(max_length=32)
    price_amount = models.BigIntegerField(help_text="Total for the quantity bought.")
    provider = models.CharField(max_length=20, blank=True)
    granted = models.JSONField(default=list, blank=True)
    bought = models.JSONField(
        default=list,
        blank=True,
        help_text="What the purchase grants once paid: the offer's contents for its quantity "
        "when it was made (an offer edited later does not change it).",
    )
    # What the purchase's reservation took (apps.shop.services.limits), given back exactly if it
    # is never paid, whatever the offer's stock or limit became meanwhile.
    reserved_stock = models.PositiveIntegerField(default=0)
    reserved_slots = models.PositiveIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    refund_shortfall = models.JSONField(default=list, blank=True)
    needs_attention = models.BooleanField(default=False, db_index=True)
    note = models.CharField(max_length=300, blank=True)
    # Why a failed or expired purchase ended: a stable problem code (payment_cancelled,
    # payment_failed, checkout_expired, payment_provider_unavailable, or the code of the refusal
    # its key answers). Empty while it has not ended so, and on rows that ended before it was
    # recorded (`selectors.ended_outcome` reads those from their note).
    outcome = models.CharField(max_length=40, blank=True, default="", db_default="")
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    refunded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["player", "idempotency_key"],
                condition=~Q(idempotency_key=""),
                name="purchase_once_per_key",
            ),
            models.CheckConstraint(condition=Q(price_amount__gte=0), name="purchase_price_gte_0"),
        ]
        indexes = [
            models.Index(fields=["player", "-id"]),
            models.Index(fields=["game", "status"]),
            # The few purchases still pending (open checkouts, flagged ones): the payments
            # sweeper's stranded reservations, every minute, without reading every purchase.
            models.Index(
                fields=["created_at"], condition=Q(status="pending"), name="purchase_pending"
            ),
            # Each player's spend in a currency, summed from the index alone (PostgreSQL).
            models.Index(
                fields=["game", "price_currency", "player"],
                include=["price_amount"],
                condition=spend_rule(),
                name="purchase_spend",
            ),
        ]

    def __str__(self) -> str:
        return f"Purchase #{self.pk} ({self.status})"

    @property
    def ledger_reference(self) -> str:
        return f"purchase:{self.pk}"


class OfferPurchaseCount(models.Model):
    """How many units of a limited offer a player has bought or is paying for: the row a
    purchase locks, so two concurrent purchases cannot both pass the limit."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    offer = models.ForeignKey(Offer, on_delete=models.CASCADE, related_name="+")
    count = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "offer"], name="one_count_per_player_offer")
        ]

    def __str__(self) -> str:
        return f"{self.player_id}:{self.offer_id}x{self.count}"
