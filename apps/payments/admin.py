"""Provider accounts (owners only: they hold payment secrets), payments and every received
notification (read-only)."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.db.models import Model, Q
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from apps.accounts.admin_scoping import (
    CappedCountPaginator,
    GameScopedAdmin,
    ReadOnlyScopedAdmin,
    WholeValueSearch,
)
from apps.accounts.selectors import OWNER_ROLES, READ_ROLES
from apps.payments.models import (
    Payment,
    Provider,
    ProviderAccount,
    ProviderEvent,
    SandboxCallback,
    provider_settings,
)
from apps.payments.selectors import payment_counts
from apps.platforms.secret_settings import WriteOnlyTextarea, hidden_secrets
from gamingpanel import crypto
from gamingpanel.crypto import mask


class ProviderAccountForm(forms.ModelForm):
    new_secrets = forms.JSONField(
        required=False,
        label="Secrets",
        help_text=(
            'Write-only JSON. Stripe: {"secret_key", "webhook_secret"}; Google Play: '
            '{"service_account": {...}, "rtdn_token"}; Apple: {"private_key"}. Empty keeps the '
            "stored secrets; null removes one. Config refuses a secret."
        ),
        widget=WriteOnlyTextarea(attrs={"rows": 4, "autocomplete": "off"}),
    )

    class Meta:
        model = ProviderAccount
        fields = ["game", "provider", "enabled", "config"]
        help_texts = {
            "enabled": "Off: no new checkouts or receipts. Refunds and chargebacks of what it "
            "sold are still verified with its settings and processed.",
            "config": 'Plain settings, shown in clear. Apple: {"bundle_id", "accept_sandbox", '
            '"app_apple_id", "issuer_id", "key_id"}; Google Play: {"package_name", '
            '"accept_test_purchases", "push_audience", "push_service_account"}; Stripe: '
            '{"success_url", "cancel_url"} (optional). A secret here is refused.',
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A secret still in config (an account the migration could not move it out of) is
            # not shown back in clear; saving refuses it until it is entered under Secrets.
            declared = provider_settings(self.instance.provider)
            self.initial["config"] = hidden_secrets(self.instance.config, declared)

    def clean_new_secrets(self) -> dict[str, Any]:
        value = self.cleaned_data.get("new_secrets") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Secrets must be a JSON object.")
        return value

    def save(self, commit: bool = True) -> ProviderAccount:
        account = super().save(commit=False)
        if changes := self.cleaned_data.get("new_secrets"):
            # Unreadable secrets (their key was removed) are replaced by what is entered.
            merged = {**(crypto.readable_json(account.secrets_encrypted) or {}), **changes}
            account.set_secrets({k: v for k, v in merged.items() if v is not None})
        if commit:
            account.save()
        return account


@admin.register(ProviderAccount)
class ProviderAccountAdmin(GameScopedAdmin):
    form = ProviderAccountForm
    write_roles = OWNER_ROLES
    list_display = ["game", "provider", "enabled", "updated_at"]
    list_filter = ["provider", "enabled", "game"]
    readonly_fields = ["stored_secrets"]
    fields = ["game", "provider", "enabled", "config", "new_secrets", "stored_secrets"]

    def deletion_refusals(self, accounts: list[Any]) -> list[str]:
        """An account its game was paid through is kept: the refunds and chargebacks of those
        payments are verified with its settings, and without them the player keeps what was
        refunded."""
        paid = payment_counts(accounts=accounts)
        return [
            f"{paid[account.pk]} payment(s) through {account.get_provider_display()} in "
            f"{account.game}: their refunds and chargebacks are verified with this account. "
            "Untick “Enabled” instead: no new sales, and refunds are still processed."
            for account in accounts
            if account.pk in paid
        ]

    def snapshot_for_audit(self, obj: Model) -> dict[str, Any]:
        # The audit log copies config: a secret in it (an account saved before config refused
        # them, or written without clean) is kept out of the log's before and after.
        snapshot = super().snapshot_for_audit(obj)
        if isinstance(obj, ProviderAccount):
            snapshot["config"] = hidden_secrets(obj.config, provider_settings(obj.provider))
        return snapshot

    @admin.display(description="Stored secrets (masked)")
    def stored_secrets(self, account: ProviderAccount) -> str:
        if not account.pk or not account.secrets_encrypted:
            return "—"
        if (stored := crypto.readable_json(account.secrets_encrypted)) is None:
            return crypto.UNREADABLE
        return format_html_join(
            "",
            "<div><code>{}</code>: {}</div>",
            ((k, mask(v if isinstance(v, str) else "•" * 12)) for k, v in stored.items()),
        )


# Keys of a stored notification whose text is a credential or a store's signed receipt: a
# Google Play purchase token (with the studio's service account it queries, acknowledges or
# consumes the purchase), Apple's signed payloads and transactions, Stripe's client secrets.
# Pub/Sub's base64 `message.data` is the notification again, token included.
CREDENTIAL_KEYS = re.compile(r"(?i)token|secret|signed|receipt")


def _credential_key(key: str, value: object) -> bool:
    return isinstance(value, str) and bool(CREDENTIAL_KEYS.search(key) or (key == "data" and value))


def masked_payload(value: object, key: str = "") -> object:
    """A notification as the admin shows it: each credential masked (crypto.mask)."""
    if isinstance(value, dict):
        return {k: masked_payload(v, str(k)) for k, v in value.items()}
    if isinstance(value, list):
        return [masked_payload(v, key) for v in value]
    return mask(value) if isinstance(value, str) and _credential_key(key, value) else value


def credentials_in(value: object, key: str = "") -> Iterator[str]:
    """Every credential masked_payload hides (to hide the same text shown elsewhere)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from credentials_in(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from credentials_in(v, key)
    elif isinstance(value, str) and _credential_key(key, value):
        yield value


def purchase_token(payment: Payment) -> str:
    """The payment's credential, if it has one: a Google Play purchase token (its reference)."""
    if payment.provider == Provider.GOOGLE_PLAY:
        return payment.payment_reference
    return ""


def without_purchase_token(text: str, payment: Payment | None) -> str:
    """`text` with the payment's purchase token masked wherever it appears: the shop's purchase
    key ("google_play§<token>" for a purchase without an orderId) and its stored answer."""
    if payment is not None and (token := purchase_token(payment)):
        return text.replace(token, mask(token))
    return text


def masked_payment(payment: Payment) -> Payment:
    """A copy to show (its str names the external id): the purchase token masked, in the
    reference and in the external id that a purchase without an orderId is known by."""
    shown = copy.copy(payment)
    if token := purchase_token(payment):
        shown.payment_reference = mask(token)
        if payment.external_id == token:
            shown.external_id = mask(token)
    return shown


@admin.register(Payment)
class PaymentAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    list_display = ["id", "created_at", "provider", "status", "amount", "currency", "purchase"]
    list_filter = ["game", "provider", "status"]
    # Searching by a whole purchase token still finds its payment; pages show it masked.
    search_fields = ["=id", "=purchase__id", "=external_id", "=payment_reference"]
    search_help_text = "A payment or purchase id, or a processor's whole checkout or payment id."
    list_select_related = ["purchase"]
    show_full_result_count = False  # one row per real-money purchase: the total reads them all
    paginator = CappedCountPaginator
    # The checkout link is the buyer's authority (a sandbox checkout's link pays or cancels it):
    # the player's, not something every reader of the game's payments gets. A Google Play
    # purchase token is the player's too: shown masked.
    exclude = ["checkout_url", "external_id", "payment_reference"]
    fields = [
        "game",
        "purchase",
        "provider",
        "shown_external_id",
        "shown_payment_reference",
        "status",
        "amount",
        "currency",
        "details",
        "needs_attention",
        "expires_at",
        "store_finish_due_at",
    ]
    readonly_fields = ["shown_external_id", "shown_payment_reference"]

    @admin.display(description="External id")
    def shown_external_id(self, payment: Payment) -> str:
        return masked_payment(payment).external_id or "—"

    @admin.display(description="Payment reference")
    def shown_payment_reference(self, payment: Payment) -> str:
        return masked_payment(payment).payment_reference or "—"

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # The page's title and breadcrumbs name the payment by its str (the external id).
        payment = self.get_object(request, unquote(object_id))
        if payment is not None:
            shown = masked_payment(payment)
            extra_context = {**(extra_context or {}), "original": shown, "subtitle": str(shown)}
        return super().change_view(request, object_id, form_url, extra_context)

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        payment = self.get_object(request, unquote(object_id))
        if payment is not None:
            shown = masked_payment(payment)
            extra_context = {
                **(extra_context or {}),
                "object": shown,
                "title": f"Change history: {shown}",
            }
        return super().history_view(request, object_id, extra_context)

    def search_matches(self, request: HttpRequest, term: str) -> list[Q]:
        # The processor's ids are indexed after the provider (the checkout id after the game
        # too): naming every game and provider, which each payment has, lets the indexes answer.
        known = Q(game__in=self._game_ids(request, READ_ROLES), provider__in=Provider.values)
        return [Q(match, known) for match in super().search_matches(request, term)]


@admin.register(ProviderEvent)
class ProviderEventAdmin(ReadOnlyScopedAdmin):
    list_display = [
        "received_at",
        "provider",
        "event_type",
        "event_id",
        "status",
        "outcome",
        "sweeps",
        "needs_attention",
    ]
    list_filter = ["provider", "status", "needs_attention", "game"]
    search_fields = ["event_id", "event_type"]
    show_full_result_count = False  # every notification received
    paginator = CappedCountPaginator
    # The notification as received holds the purchase tokens and signed receipts it is about:
    # shown masked, as is the reference and the payment they name.
    fields = [
        "game",
        "provider",
        "event_id",
        "event_type",
        "shown_payload",
        "status",
        "shown_payment",
        "outcome",
        "shown_reference",
        "attempts",
        "sweeps",
        "next_sweep_at",
        "needs_attention",
        "processed_at",
    ]
    readonly_fields = ["shown_payload", "shown_payment", "shown_reference"]

    @admin.display(description="Payload")
    def shown_payload(self, event: ProviderEvent) -> str:
        shown = json.dumps(masked_payload(event.payload), indent=2, ensure_ascii=False)
        return format_html("<pre>{}</pre>", shown)

    @admin.display(description="Payment")
    def shown_payment(self, event: ProviderEvent) -> str:
        if event.payment is None:
            return "—"
        url = reverse("admin:payments_payment_change", args=[event.payment.pk])
        return format_html('<a href="{}">{}</a>', url, masked_payment(event.payment))

    @admin.display(description="Reference")
    def shown_reference(self, event: ProviderEvent) -> str:
        if not event.reference:
            return "—"
        if event.reference in set(credentials_in(event.payload)):
            return mask(event.reference)
        return event.reference


@admin.register(SandboxCallback)
class SandboxCallbackAdmin(ReadOnlyScopedAdmin):
    """The sandbox processor's callbacks: pending ones are delivered by the sweeper."""

    list_display = ["created_at", "payment", "action", "status", "attempts", "needs_attention"]
    game_path = "payment__game"
    list_filter = ["action", "status", "needs_attention"]
    search_fields = ["event_id", "=payment__id"]
