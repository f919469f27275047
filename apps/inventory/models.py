"""Currencies, items, what each player holds, and the append-only ledger behind every change."""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Game, Player
from gamingpanel.errors import DomainError
from gamingpanel.identifiers import refuse_renaming
from gamingpanel.storable import check_storable

# The most a balance, holding or ledger delta can be: the range of their BIGINT columns.
MAX_AMOUNT = 2**63 - 1
# The most one line of authored contents (an offer, an event reward, a battle-pass tier) or an
# offer's price may name: far below MAX_AMOUNT, so a purchase of many units stays in range.
MAX_LINE_QUANTITY = 10**12


class Currency(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="currencies")
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    cap = models.BigIntegerField(
        null=True, blank=True, help_text="Most a player may hold; empty = no cap."
    )

    class Meta:
        verbose_name_plural = "currencies"
        ordering = ["game", "code"]
        constraints = [
            models.UniqueConstraint(fields=["game", "code"], name="currency_code_per_game"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(cap__gte=0), name="currency_cap_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return self.code

    def clean(self) -> None:
        """The code is fixed once saved, and the cap fits the game's starting grant: otherwise
        every new player's first login would fail paying the grant."""
        super().clean()
        refuse_renaming(self, "code")
        grant = self.game.starting_grant if self.game_id else None
        if not grant:
            return
        amount = grant.get(self.code)
        if isinstance(amount, int) and self.cap is not None and self.cap < amount:
            raise ValidationError(
                {
                    "cap": f"The game's starting grant gives {amount} {self.code}: a cap below "
                    "it would refuse every new player's first login."
                }
            )


class ItemDefinition(models.Model):
    class Kind(models.TextChoices):
        CONSUMABLE = "consumable", "Consumable"
        DURABLE = "durable", "Durable (owned once)"
        STACKABLE = "stackable", "Stackable"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="items")
    sku = models.SlugField(max_length=64)
    name = models.CharField(max_length=100)
    kind = models.CharField(max_length=12, choices=Kind.choices, default=Kind.CONSUMABLE)
    max_stack = models.PositiveIntegerField(null=True, blank=True, help_text="Empty = unlimited.")
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["game", "sku"]
        constraints = [models.UniqueConstraint(fields=["game", "sku"], name="item_sku_per_game")]

    def __str__(self) -> str:
        return self.sku

    def clean(self) -> None:
        """The sku is fixed once saved, and the properties are a JSON object the database can
        store: the player's inventory answers them as an object (an empty field, or null, is
        none: {}), and U+0000, a lone surrogate or nesting past MAX_DEPTH would fail the save."""
        super().clean()
        refuse_renaming(self, "sku")
        if self.properties is None:
            self.properties = {}
        if not isinstance(self.properties, dict):
            raise ValidationError(
                {"properties": 'A JSON object, e.g. {"damage": 5}, or {} for none.'}
            )
        try:
            check_storable(self.properties, "properties")
        except DomainError as refused:
            raise ValidationError({"properties": refused.detail}) from None

    @property
    def holding_limit(self) -> int | None:
        return 1 if self.kind == self.Kind.DURABLE else self.max_stack


class Wallet(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="wallets")
    currency = models.ForeignKey(Currency, on_delete=models.PROTECT, related_name="wallets")
    balance = models.BigIntegerField(default=0)
    # A copy of the currency's cap, so the database itself can refuse an overfull wallet.
    cap = models.BigIntegerField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "currency"], name="one_wallet_per_currency"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_gte_0"),
            models.CheckConstraint(
                condition=Q(cap__isnull=True) | Q(balance__lte=F("cap")),
                name="wallet_balance_lte_cap",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player_id}:{self.currency_id}={self.balance}"


class PlayerItem(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ItemDefinition, on_delete=models.PROTECT, related_name="holdings")
    quantity = models.BigIntegerField(default=0)
    limit = models.BigIntegerField(null=True, blank=True)  # copy of the item's holding limit

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "item"], name="one_holding_per_item"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="item_quantity_gte_0"),
            models.CheckConstraint(
                condition=Q(limit__isnull=True) | Q(quantity__lte=F("limit")),
                name="item_quantity_lte_limit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.player_id}:{self.item_id}x{self.quantity}"


class LedgerEntry(models.Model):
    """Append-only: one row per change of one balance or item count, written in the same
    transaction as the change. Balances can always be recomputed by summing `delta`."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="ledger_entries")
    currency = models.ForeignKey(
        Currency, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    item = models.ForeignKey(
        ItemDefinition, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    delta = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    reason = models.CharField(max_length=40)
    reference = models.CharField(max_length=120, blank=True)
    idempotency_key = models.CharField(max_length=200)
    # The key of the `apply_changes` call that wrote this entry (idempotency_key is that plus
    # ":kind:code"): an exact, indexed lookup finds a replayed call without a prefix scan.
    operation_key = models.CharField(max_length=200, blank=True, default="")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name_plural = "ledger entries"
        constraints = [
            models.UniqueConstraint(
                fields=["player", "idempotency_key"], name="ledger_once_per_key"
            ),
            models.CheckConstraint(
                condition=Q(currency__isnull=False, item__isnull=True)
                | Q(currency__isnull=True, item__isnull=False),
                name="ledger_currency_xor_item",
            ),
        ]
        indexes = [
            models.Index(fields=["game", "created_at"]),
            models.Index(fields=["player", "-id"]),
            models.Index(fields=["player", "operation_key"]),
            models.Index(fields=["reference"]),
        ]

    def __str__(self) -> str:
        return f"{self.reason} {self.delta:+d} → {self.balance_after}"

    def save(self, *args: object, **kwargs: object) -> None:
        if self.pk is not None:
            raise ValueError("Ledger entries are append-only.")
        super().save(*args, **kwargs)

    @property
    def code(self) -> str:
        """The currency's code or the item's sku: exactly one of them is set."""
        if self.currency is not None:
            return self.currency.code
        assert self.item is not None  # ledger_currency_xor_item
        return self.item.sku
