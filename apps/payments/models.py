"""Payment processors and platform stores: each game's accounts with them, one payment per
real-money purchase, and every notification they sent us, stored as received."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from apps.accounts.models import Game
from apps.payments.errors import ProviderNotConfigured
from apps.platforms.secret_settings import SecretSettings, config_secret_errors
from gamingpanel import crypto


class Provider(models.TextChoices):
    STRIPE = "stripe", "Stripe"
    SANDBOX = "sandbox", "Sandbox (test payments)"
    APPLE = "apple", "Apple App Store"
    GOOGLE_PLAY = "google_play", "Google Play"


# What each provider (apps/payments/providers/) reads from an account's plain `config` and
# from its encrypted secrets. A secret typed into config is refused when saved (`clean`), and
# so is any config key whose name looks secret and is not listed here as plain.
PROVIDER_SETTINGS: dict[str, SecretSettings] = {
    Provider.STRIPE: SecretSettings.of(
        plain=("success_url", "cancel_url"), secret=("secret_key", "webhook_secret")
    ),
    Provider.SANDBOX: SecretSettings(),  # signed with the server's SANDBOX_PAYMENT_SECRET
    Provider.APPLE: SecretSettings.of(
        plain=("bundle_id", "accept_sandbox", "app_apple_id", "issuer_id", "key_id"),
        secret=("private_key",),
    ),
    Provider.GOOGLE_PLAY: SecretSettings.of(
        plain=("package_name", "accept_test_purchases", "push_audience", "push_service_account"),
        secret=("service_account", "rtdn_token"),
    ),
}


def provider_settings(provider: str) -> SecretSettings:
    return PROVIDER_SETTINGS.get(provider, SecretSettings())


class ProviderAccount(models.Model):
    """A game's credentials with one provider: plain settings in `config`, secrets encrypted
    (which are which: PROVIDER_SETTINGS)."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="payment_accounts")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(default=dict, blank=True)
    secrets_encrypted = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "provider"], name="one_account_per_provider")
        ]

    def __str__(self) -> str:
        return f"{self.game} — {self.get_provider_display()}"

    def clean(self) -> None:
        """No secret is in config (the admin and the audit log show config in clear)."""
        super().clean()
        if not isinstance(self.config, dict):
            # Every provider reads its settings by name: a list would fail every purchase.
            raise ValidationError({"config": 'A JSON object, e.g. {"bundle_id": "com.x.y"}.'})
        if errors := config_secret_errors(self.config, provider_settings(self.provider)):
            raise ValidationError({"config": errors})

    @property
    def secrets(self) -> dict[str, Any]:
        return crypto.stored_secrets(
            self.secrets_encrypted,
            owner=f"{self.provider} payment account of game {self.game_id}",
            refused=ProviderNotConfigured(
                f"This game's {self.provider} secrets cannot be read by the server; an owner "
                "must enter them again."
            ),
        )

    def set_secrets(self, values: dict[str, Any]) -> None:
        self.secrets_encrypted = crypto.encrypt_json(values) if values else ""


def new_public_token() -> str:
    """256 random bits, URL-safe: the buyer's capability for the pages of one payment."""
    return secrets.token_urlsafe(32)


class Payment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", "Checkout created"
        SUCCEEDED = "succeeded", "Paid"
        FAILED = "failed", "Failed"
        EXPIRED = "expired", "Expired"
        REFUNDED = "refunded", "Refunded"
        DISPUTED = "disputed", "Disputed (chargeback)"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    purchase = models.OneToOneField(
        "shop.Purchase", on_delete=models.PROTECT, related_name="payment"
    )
    provider = models.CharField(max_length=20, choices=Provider.choices)
    # Checkout session id (Stripe, sandbox) or store transaction id (Apple, Google order id).
    # 255: the longest object id Stripe documents; a store's is shorter (apple.TRANSACTION_ID,
    # google_play.MAX_TOKEN_AS_ID), bound by the purchase's key "<provider>§<id>".
    external_id = models.CharField(max_length=255, blank=True)
    # The processor's id of the money movement (Stripe payment intent; Google purchase token).
    payment_reference = models.CharField(max_length=500, blank=True)
    checkout_url = models.URLField(max_length=1000, blank=True)
    # Names this payment in the buyer's pages (sandbox checkout, return page) instead of its
    # sequential id: only the paying player's purchase answer carries it.
    public_token = models.CharField(
        max_length=64, unique=True, default=new_public_token, editable=False
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    amount = models.BigIntegerField(default=0, help_text="Minor units.")
    currency = models.CharField(max_length=3, blank=True)
    details = models.JSONField(default=dict, blank=True)
    # Set by the sweeper when it gave up on this payment's pending work (a granted Google Play
    # purchase still not consumed or acknowledged after its attempts): an operator looks.
    needs_attention = models.BooleanField(default=False)
    # When an opened checkout nobody paid ends: CHECKOUT_EXPIRY_SECONDS after its purchase began,
    # or the end Stripe gave its session. The expiry sweep closes it then (services/expiry.py).
    # None: never opened, or submitted (the buyer pressed Pay or Cancel, or chose a delayed
    # payment method), so the processor's word ends it, not the clock.
    expires_at = models.DateTimeField(null=True, blank=True)
    # A granted Google Play purchase not yet consumed or acknowledged (Google refunds those after
    # three days): when the sweeper next queues the task that does it; None once done.
    store_finish_due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # One grant per store transaction / checkout, however often it is reported.
            models.UniqueConstraint(
                fields=["game", "provider", "external_id"],
                condition=~Q(external_id=""),
                name="payment_once_per_external_id",
            ),
            # App Store and Google Play transaction ids are global: a receipt is granted in one
            # game only, even when two games' settings name the same bundle or package.
            models.UniqueConstraint(
                fields=["provider", "external_id"],
                condition=Q(provider__in=["apple", "google_play"]) & ~Q(external_id=""),
                name="store_transaction_once",
            ),
        ]
        indexes = [
            models.Index(fields=["provider", "payment_reference"]),
            models.Index(
                fields=["store_finish_due_at"],
                condition=Q(store_finish_due_at__isnull=False),
                name="payment_store_finish_due",
            ),
            # Checkouts still open, few among all payments (each ends paid, failed or expired
            # within CHECKOUT_EXPIRY_SECONDS): the sweeper's unopened checkouts, every minute,
            # without reading every payment ever made.
            models.Index(
                fields=["created_at"],
                condition=Q(status="created"),
                name="payment_open_created",
            ),
            # The open checkouts that have an end, by when: the expiry sweep reads those due,
            # every minute, however many are open.
            models.Index(
                fields=["expires_at"],
                condition=Q(status="created", expires_at__isnull=False),
                name="payment_open_expiry",
            ),
        ]

    def __str__(self) -> str:
        # A Google Play purchase without an orderId is known by its purchase token, a credential
        # (with the studio's service account it consumes or refunds the purchase): anything that
        # prints a payment (logs, links from other admin pages, audit targets) names it masked.
        known_by = self.external_id
        if self.provider == Provider.GOOGLE_PLAY and known_by == self.payment_reference:
            known_by = crypto.mask(known_by)
        return f"{self.provider} {known_by or self.pk} ({self.status})"


class ProviderEvent(models.Model):
    """A notification exactly as a processor or store sent it (unknown types too), then what we
    made of it. Unique per provider and event id, so a redelivery is recognised."""

    class Status(models.TextChoices):
        RECEIVED = "received", "Received, not processed yet"
        PROCESSED = "processed", "Processed"
        IGNORED = "ignored", "Stored, nothing to do"
        FAILED = "failed", "Failed (see error)"
        # A refund or chargeback of a payment we do not know (yet): a store refunded a
        # transaction no receipt of which was redeemed, or the refund outran the payment's news.
        UNMATCHED = "unmatched", "A reversal of a payment not known yet"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, null=True, related_name="+")
    provider = models.CharField(max_length=20, choices=Provider.choices)
    event_id = models.CharField(max_length=255)
    event_type = models.CharField(max_length=100)
    payload = models.JSONField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.RECEIVED)
    payment = models.ForeignKey(
        Payment, on_delete=models.SET_NULL, null=True, blank=True, related_name="events"
    )
    outcome = models.CharField(max_length=200, blank=True)
    # An unmatched reversal's transaction (store transaction id, or the processor's reference):
    # a receipt of it redeemed later is refused.
    reference = models.CharField(max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # The sweeper's bookkeeping (services/recovery.py): how often it re-queued this event, when
    # it may next, and whether it gave up (then an operator must look).
    sweeps = models.PositiveIntegerField(default=0)
    next_sweep_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False)
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["provider", "event_id"], name="event_once_per_provider")
        ]
        indexes = [
            models.Index(fields=["status", "received_at"]),
            models.Index(
                fields=["provider", "reference"],
                condition=~Q(reference=""),
                name="provider_event_reference",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {self.event_type} {self.event_id}"


# An `unmatched` event that is no reversal (a partial refund, a refund's reversal: a purchase
# to review once its payment is known) begins its outcome so. Receipts are refused, and a
# payment's news reverses its purchase, for the unmatched reversals only (UNMATCHED_REVERSAL).
UNMATCHED_REVIEW = "flag "
UNMATCHED_REVERSAL = Q(status=ProviderEvent.Status.UNMATCHED) & ~Q(
    outcome__startswith=UNMATCHED_REVIEW
)


class SandboxCallback(models.Model):
    """The sandbox processor's outbox: a signed callback it owes our webhook (the buyer paid or
    cancelled, an operator refunded), written in the transaction that asked for it and
    delivered by a task; the sweeper re-queues one left pending. Its event id is fixed here,
    so however often it is delivered the webhook stores it once."""

    class Action(models.TextChoices):
        PAID = "paid", "Paid"
        CANCEL = "cancel", "Cancelled by the buyer"
        REFUND = "refund", "Refunded by an operator"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending delivery"
        DELIVERED = "delivered", "Delivered"
        # A buyer's Pay or Cancel the sweeper gave up delivering: its checkout was closed
        # unpaid (its reservation released) and the callback is never sent.
        CLOSED = "closed", "Not delivered; checkout closed unpaid"

    payment = models.ForeignKey(Payment, on_delete=models.CASCADE, related_name="callbacks")
    action = models.CharField(max_length=10, choices=Action.choices)
    event_id = models.CharField(max_length=100, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    attempts = models.PositiveIntegerField(default=0, help_text="Deliveries tried.")
    last_error = models.CharField(max_length=200, blank=True)
    sweeps = models.PositiveIntegerField(default=0)
    next_sweep_at = models.DateTimeField(null=True, blank=True)
    needs_attention = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    delivered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["payment", "action"], name="sandbox_callback_once")
        ]
        indexes = [models.Index(fields=["status", "created_at"])]

    def __str__(self) -> str:
        return f"sandbox {self.action} of payment {self.payment_id} ({self.status})"
