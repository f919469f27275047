"""Remote config: the draft operators edit (keys with a default value, each with overrides in
order), and the releases publishing made of it, newest live. Clients read the live release,
resolved for them (`resolver.resolve`)."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from apps.accounts.models import Game

KEY_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
VERSION_PATTERN = r"^\d{1,6}(\.\d{1,6}){0,3}$"


class ConfigKey(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="config_keys")
    key = models.CharField(max_length=64, validators=[RegexValidator(KEY_PATTERN)])
    value = models.JSONField(help_text="The default, when no override matches.")
    description = models.CharField(max_length=300, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["game", "key"], name="one_config_key")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class ConfigOverride(models.Model):
    """Another value for the players it matches: every condition set must hold (an empty one
    is no condition). The first matching override of a key, by position, wins."""

    config_key = models.ForeignKey(ConfigKey, on_delete=models.CASCADE, related_name="overrides")
    position = models.PositiveSmallIntegerField(default=0)
    value = models.JSONField()
    platforms = models.JSONField(
        default=list, blank=True, help_text='Client platforms, e.g. ["ios", "android"]; empty: any.'
    )
    min_client_version = models.CharField(
        max_length=30,
        blank=True,
        validators=[RegexValidator(VERSION_PATTERN)],
        help_text="From this client version on (inclusive), e.g. 1.4.0.",
    )
    max_client_version = models.CharField(
        max_length=30,
        blank=True,
        validators=[RegexValidator(VERSION_PATTERN)],
        help_text="Below this client version (exclusive).",
    )
    min_level = models.PositiveIntegerField(null=True, blank=True)
    max_level = models.PositiveIntegerField(null=True, blank=True)
    payer = models.BooleanField(
        null=True,
        blank=True,
        help_text="True: players with a completed real-money purchase; False: the others.",
    )
    created_after = models.DateTimeField(null=True, blank=True)
    created_before = models.DateTimeField(null=True, blank=True)
    rollout_percent = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    rollout_salt = models.CharField(
        max_length=64,
        blank=True,
        help_text="Empty: the key. Players keep their bucket while the percentage grows; a new "
        "salt draws new buckets.",
    )

    class Meta:
        ordering = ["config_key", "position", "id"]

    def __str__(self) -> str:
        return f"{self.config_key} #{self.position}"


class ConfigRelease(models.Model):
    """One publication: the whole draft as it was (`rules`), numbered per game."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="config_releases")
    version = models.PositiveIntegerField()
    rules = models.JSONField()
    note = models.CharField(max_length=300, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rolled_back_to = models.PositiveIntegerField(
        null=True, blank=True, help_text="This release republished that earlier version."
    )
    published_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "version"], name="one_config_release_version")
        ]
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"{self.game} config v{self.version}"
