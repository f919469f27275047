"""Provider accounts (owners only: they hold payment secrets), payments and every received
notification (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model, Q
from django.http import HttpRequest
from django.utils.html import format_html_join

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


@admin.register(Payment)
class PaymentAdmin(WholeValueSearch, ReadOnlyScopedAdmin):
    list_display = ["id", "created_at", "provider", "status", "amount", "currency", "purchase"]
    list_filter = ["game", "provider", "status"]
    search_fields = ["=id", "=purchase__id", "=external_id", "=payment_reference"]
    search_help_text = "A payment or purchase id, or a processor's whole checkout or payment id."
    list_select_related = ["purchase"]
    show_full_result_count = False  # one row per real-money purchase: the total reads them all
    paginator = CappedCountPaginator
    # The checkout link is the buyer's authority (a sandbox checkout's link pays or cancels it):
    # the player's, not something every reader of the game's payments gets.
    exclude = ["checkout_url"]

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


@admin.register(SandboxCallback)
class SandboxCallbackAdmin(ReadOnlyScopedAdmin):
    """The sandbox processor's callbacks: pending ones are delivered by the sweeper."""

    list_display = ["created_at", "payment", "action", "status", "attempts", "needs_attention"]
    game_path = "payment__game"
    list_filter = ["action", "status", "needs_attention"]
    search_fields = ["event_id", "=payment__id"]
