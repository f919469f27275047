"""Each game's credentials for each login platform; secrets are encrypted at rest."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from apps.accounts.models import Game
from apps.platforms.errors import PlatformNotConfigured
from apps.platforms.hosts import config_problems
from apps.platforms.secret_settings import config_secret_errors
from apps.platforms.verifiers import declared_settings
from gamingpanel import crypto


class PlatformCredential(models.Model):
    class Platform(models.TextChoices):
        STEAM = "steam", "Steam"
        EPIC = "epic", "Epic Online Services"
        IDCGAMES = "idcgames", "IDCGames"
        GOOGLE_PLAY = "google_play", "Google Play Games"
        APPLE = "apple", "Apple (Game Center / Sign in with Apple)"
        PLAYSTATION = "playstation", "PlayStation Network"
        NINTENDO = "nintendo", "Nintendo Switch"
        DEV = "dev", "Dev sandbox"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="platform_credentials")
    platform = models.CharField(max_length=20, choices=Platform.choices)
    enabled = models.BooleanField(default=True)
    config = models.JSONField(
        default=dict, blank=True, help_text="Non-secret settings: app ids, client ids, URLs, flags."
    )
    secrets_encrypted = models.TextField(blank=True, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "platform"], name="one_credential_per_platform")
        ]

    def __str__(self) -> str:
        return f"{self.game} — {self.get_platform_display()}"

    def clean(self) -> None:
        """Per-game URLs are https, on the platform's hosts, and not internal addresses; no
        secret is in config (the admin, the panel and the audit log show config in clear)."""
        super().clean()
        if not isinstance(self.config, dict):
            # Every verifier reads its settings by name: a list or a number would fail every
            # login of the platform.
            raise ValidationError({"config": 'A JSON object, e.g. {"app_id": "480"}.'})
        problems = config_problems(self.platform, self.config)
        errors = [f"{key}: {problem}." for key, problem in problems.items()]
        errors += config_secret_errors(self.config, declared_settings(self.platform))
        if errors:
            raise ValidationError({"config": errors})

    @property
    def secrets(self) -> dict[str, Any]:
        return crypto.stored_secrets(
            self.secrets_encrypted,
            owner=f"{self.platform} credential of game {self.game_id}",
            refused=PlatformNotConfigured(
                f"This game's {self.platform} secrets cannot be read by the server; an operator "
                "must enter them again."
            ),
        )

    def set_secrets(self, values: dict[str, Any]) -> None:
        self.secrets_encrypted = crypto.encrypt_json(values) if values else ""

    def verifier_config(self) -> dict[str, Any]:
        """The one mapping a verifier reads: config, decrypted secrets, the game's sandbox flag
        and its id (what a credential is bound to)."""
        return {
            **self.config,
            **self.secrets,
            "sandbox": self.game.sandbox,
            "game_id": self.game_id,
        }
