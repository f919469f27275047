"""Stat definitions per game, each player's stat values, and levels from XP on a per-game curve."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from apps.accounts.models import Game, Player
from apps.stats.levels import MAX_XP, Curve
from gamingpanel.identifiers import refuse_renaming


class StatDefinition(models.Model):
    class Combine(models.TextChoices):
        SUM = "sum", "Sum (add each reported value)"
        MAX = "max", "Maximum (keep the best)"
        MIN = "min", "Minimum (keep the lowest, e.g. fastest lap)"
        LATEST = "latest", "Latest (replace)"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="stat_definitions")
    key = models.SlugField(max_length=64, help_text="What game servers send, e.g. kills.")
    name = models.CharField(max_length=100)
    combine = models.CharField(max_length=6, choices=Combine.choices, default=Combine.SUM)

    class Meta:
        ordering = ["game", "key"]
        constraints = [models.UniqueConstraint(fields=["game", "key"], name="stat_key_per_game")]

    def __str__(self) -> str:
        return self.key

    def clean(self) -> None:
        super().clean()
        refuse_renaming(self, "key")


class PlayerStat(models.Model):
    """One value per player and stat; written only by `apps.stats.services.apply_stats`."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="stats")
    definition = models.ForeignKey(StatDefinition, on_delete=models.CASCADE, related_name="values")
    value = models.BigIntegerField()
    updated_at = models.DateTimeField()
    # When the report behind `value` happened (a match's end): a `latest` stat keeps the newest
    # report's value, however late an older one arrives (a game server's retry). Null on values
    # from before it was kept: the next report replaces them.
    value_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["player", "definition"], name="one_value_per_stat")
        ]

    def __str__(self) -> str:
        return f"{self.player_id}:{self.definition_id}={self.value}"


class LevelCurve(models.Model):
    """XP needed from level n to n+1 is `xp_per_level` grown by `growth_percent` per level."""

    game = models.OneToOneField(Game, on_delete=models.CASCADE, related_name="level_curve")
    xp_per_level = models.PositiveIntegerField(
        default=1000, validators=[MinValueValidator(1)], help_text="XP from level 1 to 2."
    )
    growth_percent = models.PositiveSmallIntegerField(
        default=10,
        validators=[MaxValueValidator(100)],
        help_text="Each next level needs this much more XP than the one before (0 = linear).",
    )
    max_level = models.PositiveSmallIntegerField(
        default=100, validators=[MinValueValidator(1), MaxValueValidator(1000)]
    )

    class Meta:
        constraints = [
            models.CheckConstraint(condition=Q(xp_per_level__gte=1), name="curve_step_gte_1"),
            models.CheckConstraint(
                condition=Q(max_level__gte=1, max_level__lte=1000), name="curve_max_level_range"
            ),
        ]

    def __str__(self) -> str:
        return f"Level curve of {self.game}"

    def clean(self) -> None:
        super().clean()
        if None in (self.xp_per_level, self.growth_percent, self.max_level):
            return  # each field says what it misses
        curve = Curve(self.xp_per_level, self.growth_percent, self.max_level)
        if not curve.reachable():
            reached = curve.level_for(MAX_XP)
            raise ValidationError(
                f"This curve needs more XP than a player can hold past level {reached}: lower "
                "the growth, the XP per level or the max level."
            )


class PlayerProgress(models.Model):
    """Total XP; written only by `apps.stats.services.add_xp`. The level is not stored: it
    follows from XP on the game's current curve (`apps.stats.levels`)."""

    player = models.OneToOneField(Player, on_delete=models.CASCADE, related_name="progress")
    xp = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "player progress"
        constraints = [models.CheckConstraint(condition=Q(xp__gte=0), name="progress_xp_gte_0")]
        # The panel's player list sorted by level: the players with XP in XP order (then the
        # newest first), read backwards a page at a time instead of sorting every player.
        indexes = [models.Index(fields=["xp", "player"], name="progress_xp_player")]

    def __str__(self) -> str:
        return f"{self.player_id}: {self.xp} XP"
