from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.db.models import Model
from django.utils.html import format_html_join

from apps.accounts.admin_scoping import GameScopedAdmin
from apps.accounts.selectors import OWNER_ROLES
from apps.platforms.hosts import config_problems
from apps.platforms.models import PlatformCredential
from apps.platforms.secret_settings import WriteOnlyTextarea, hidden_secrets
from apps.platforms.verifiers import declared_settings
from gamingpanel import crypto
from gamingpanel.crypto import mask


class PlatformCredentialForm(forms.ModelForm):
    new_secrets = forms.JSONField(
        required=False,
        label="Secrets",
        help_text=(
            'Write-only JSON, e.g. {"publisher_key": "…"}. Leave empty to keep the stored secrets; '
            "entered keys replace the stored ones with the same name, null removes one. Every "
            "key marked secret in docs/platforms.md goes here: config refuses it."
        ),
        widget=WriteOnlyTextarea(attrs={"rows": 3, "autocomplete": "off"}),
    )

    class Meta:
        model = PlatformCredential
        fields = ["game", "platform", "enabled", "config"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            # A secret still in config (a row the migration could not move: its secrets were
            # unreadable) is not shown back in clear; saving refuses it until it is removed
            # from config and entered under Secrets.
            declared = declared_settings(self.instance.platform)
            self.initial["config"] = hidden_secrets(self.instance.config, declared)

    def clean_new_secrets(self) -> dict[str, Any]:
        value = self.cleaned_data.get("new_secrets") or {}
        if not isinstance(value, dict):
            raise forms.ValidationError("Secrets must be a JSON object.")
        platform = self.data.get("platform") or getattr(self.instance, "platform", "")
        if problems := config_problems(str(platform), value):
            raise forms.ValidationError([f"{key}: {problem}." for key, problem in problems.items()])
        return value

    def save(self, commit: bool = True) -> PlatformCredential:
        credential = super().save(commit=False)
        if changes := self.cleaned_data.get("new_secrets"):
            # Unreadable secrets (their key was removed) are replaced by what is entered.
            merged = {**(crypto.readable_json(credential.secrets_encrypted) or {}), **changes}
            credential.set_secrets({k: v for k, v in merged.items() if v is not None})
        if commit:
            credential.save()
        return credential


@admin.register(PlatformCredential)
class PlatformCredentialAdmin(GameScopedAdmin):
    # Owners only, as payment accounts and server keys: whoever sets a platform's app id and
    # key decides whose tickets log in as the game's players.
    write_roles = OWNER_ROLES
    form = PlatformCredentialForm
    list_display = ["game", "platform", "enabled", "updated_at"]
    list_filter = ["platform", "enabled", "game"]
    readonly_fields = ["stored_secrets"]
    # A saved credential's game is fixed (GameScopedAdmin), and so is its platform: the secrets
    # were given for that platform of that game.
    fixed_once_saved = ("platform",)
    fields = ["game", "platform", "enabled", "config", "new_secrets", "stored_secrets"]

    def snapshot_for_audit(self, obj: Model) -> dict[str, Any]:
        # The audit log copies config: a secret in it (a row saved before config refused them,
        # or written without clean) is kept out of the log's before and after.
        snapshot = super().snapshot_for_audit(obj)
        if isinstance(obj, PlatformCredential):
            snapshot["config"] = hidden_secrets(obj.config, declared_settings(obj.platform))
        return snapshot

    @admin.display(description="Stored secrets (masked)")
    def stored_secrets(self, obj: PlatformCredential) -> str:
        if not obj.pk or not obj.secrets_encrypted:
            return "—"
        if (stored := crypto.readable_json(obj.secrets_encrypted)) is None:
            return crypto.UNREADABLE
        return format_html_join(
            "",
            "<div><code>{}</code>: {}</div>",
            ((k, mask(v if isinstance(v, str) else "•" * 12)) for k, v in stored.items()),
        )
