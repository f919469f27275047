"""Battle-pass seasons (one running at a time per game), their tiers, and each player's pass."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Game, Player
from apps.battlepass.contents import (
    check_codes_defined,
    check_holding_limits,
    no_lines_if_empty,
    validate_contents,
)


class Season(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="seasons")
    name = models.CharField(max_length=100)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "-starts_at"]
        indexes = [models.Index(fields=["game", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="season_ends_after"
            )
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "A season ends after it starts."})
        if self.game_id and self.starts_at and self.ends_at:
            # One active season at a time: windows of a game's seasons may not overlap.
            overlapping = Season.objects.filter(
                game_id=self.game_id, starts_at__lt=self.ends_at, ends_at__gt=self.starts_at
            ).exclude(pk=self.pk)
            if overlapping.exists():
                raise ValidationError(f"Overlaps season {overlapping.first()}.")


class Tier(models.Model):
    season = models.ForeignKey(Season, on_delete=models.CASCADE, related_name="tiers")
    level = models.PositiveSmallIntegerField()
    xp_required = models.PositiveIntegerField(help_text="Season XP that unlocks this tier.")
    free_reward = models.JSONField(default=list, blank=True, validators=[validate_contents])
    premium_reward = models.JSONField(default=list, blank=True, validators=[validate_contents])

    class Meta:
        ordering = ["season", "level"]
        constraints = [
            models.UniqueConstraint(fields=["season", "level"], name="one_tier_per_level"),
            models.CheckConstraint(condition=Q(level__gte=1), name="tier_level_gte_1"),
        ]

    def __str__(self) -> str:
        return f"{self.season} tier {self.level}"

    def clean(self) -> None:
        # Left empty, a track grants no lines (before the save: never a 500 or {}).
        self.free_reward = no_lines_if_empty(self.free_reward)
        self.premium_reward = no_lines_if_empty(self.premium_reward)
        try:
            game_id = self.season.game_id  # the admin's inline sets a new season unsaved
        except Season.DoesNotExist:
            return  # no season yet: the form reports it
        if game_id is None:
            return
        check_codes_defined(self.free_reward, game_id=game_id, field="free_reward")
        check_codes_defined(self.premium_reward, game_id=game_id, field="premium_reward")
        check_holding_limits(self.free_reward, game_id=game_id, field="free_reward")
        check_holding_limits(self.premium_reward, game_id=game_id, field="premium_reward")


class SeasonPass(models.Model):
    """A player's XP in one season and whether they own its premium track."""

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="season_passes")
    # PROTECT: a pass may be paid for; deleting its season must not delete it.
    season = models.ForeignKey(Season, on_delete=models.PROTECT, related_name="passes")
    xp = models.BigIntegerField(default=0)
    premium = models.BooleanField(default=False)
    premium_granted_at = models.DateTimeField(null=True, blank=True)
    premium_key = models.CharField(
        max_length=200, blank=True, help_text="Idempotency key of the grant (e.g. the purchase)."
    )

    class Meta:
        verbose_name_plural = "season passes"
        constraints = [
            models.UniqueConstraint(fields=["player", "season"], name="one_pass_per_season"),
            models.CheckConstraint(condition=Q(xp__gte=0), name="pass_xp_gte_0"),
        ]

    def __str__(self) -> str:
        return f"{self.player_id} in {self.season_id}: {self.xp} XP"


class TierClaim(models.Model):
    class Track(models.TextChoices):
        FREE = "free", "Free"
        PREMIUM = "premium", "Premium"

    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="tier_claims")
    # PROTECT: deleting a claimed tier (or its season) would let players claim it again.
    tier = models.ForeignKey(Tier, on_delete=models.PROTECT, related_name="claims")
    track = models.CharField(max_length=7, choices=Track.choices)
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The database, not Python, makes a tier's reward grant once.
            models.UniqueConstraint(fields=["player", "tier", "track"], name="claim_tier_once")
        ]

    def __str__(self) -> str:
        return f"{self.player_id} claimed {self.tier} ({self.track})"
