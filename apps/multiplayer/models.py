"""Match results (once per match id), the XP a match grants, and the live game-server registry."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Game, Player, ServerKey

# What a game server may send as a match id, a mode, a region or a server id (the API refuses
# anything else); an XP rule's mode is held to it too, or it would name a mode no match has.
NAME = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"


class Outcome(models.TextChoices):
    WIN = "win", "Win"
    LOSS = "loss", "Loss"
    DRAW = "draw", "Draw"


class XpRule(models.Model):
    """XP per outcome, per mode or for every mode (blank); a mode's own rule wins."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="xp_rules")
    mode = models.CharField(max_length=32, blank=True, help_text="Blank: every mode.")
    outcome = models.CharField(max_length=4, choices=Outcome.choices)
    xp = models.PositiveIntegerField()

    class Meta:
        verbose_name = "match XP rule"
        ordering = ["game", "mode", "outcome"]
        constraints = [
            models.UniqueConstraint(fields=["game", "mode", "outcome"], name="one_xp_rule_per_case")
        ]

    def __str__(self) -> str:
        return f"{self.mode or 'any mode'} {self.outcome}: {self.xp} XP"

    def clean(self) -> None:
        super().clean()
        if self.mode and not re.fullmatch(NAME, self.mode):
            raise ValidationError(
                {
                    "mode": "A mode is a letter or digit, then letters, digits, '.', '_', ':' or "
                    "'-' (no spaces), as game servers send it; a rule for another mode never "
                    "applies. Leave it blank for every mode."
                }
            )


class MatchSettings(models.Model):
    """A game's rules for match results (a game without a row gets the defaults)."""

    class UndeclaredStats(models.TextChoices):
        REFUSE = "refuse", "Refuse the match (400 unknown_stat)"
        IGNORE = "ignore", "Record the match without them and report them per player"

    game = models.OneToOneField(Game, on_delete=models.CASCADE, related_name="match_settings")
    undeclared_stats = models.CharField(
        max_length=6,
        choices=UndeclaredStats.choices,
        default=UndeclaredStats.REFUSE,
        help_text="What a match result's stat that the game does not define does.",
    )

    class Meta:
        verbose_name = "match settings"
        verbose_name_plural = "match settings"

    def __str__(self) -> str:
        return f"Match settings of {self.game}"


class Match(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="matches")
    match_id = models.CharField(max_length=100)
    mode = models.CharField(max_length=32)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField()
    recorded_at = models.DateTimeField(auto_now_add=True, db_index=True)
    server_key = models.ForeignKey(
        ServerKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # What the result said (mode and each player's line, services.matches.lines_digest): a repeat
    # of the id with other lines is another match under a reused id, not a retry. Empty for
    # matches recorded before it was kept. db_default (here and on MatchResult.ignored_stats and
    # counted): for the INSERTs of a release before the column, while it serves during an upgrade.
    lines_digest = models.CharField(
        max_length=64, blank=True, default="", db_default="", editable=False
    )

    class Meta:
        verbose_name_plural = "matches"
        constraints = [
            # The database makes a match count once, however often and concurrently it is posted.
            models.UniqueConstraint(fields=["game", "match_id"], name="match_once_per_game"),
        ]

    def __str__(self) -> str:
        return f"{self.match_id} ({self.mode})"


class MatchResult(models.Model):
    """One player's line of a match and what it granted, kept to answer repeats identically."""

    match = models.ForeignKey(Match, on_delete=models.CASCADE, related_name="results")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="match_results")
    outcome = models.CharField(max_length=4, choices=Outcome.choices)
    score = models.BigIntegerField(default=0)
    stats = models.JSONField(default=dict, blank=True)
    # Stats the game does not define, left out under MatchSettings' "ignore" rule.
    ignored_stats = models.JSONField(default=list, db_default=[], blank=True)
    xp_awarded = models.PositiveIntegerField(default=0)
    season_xp_awarded = models.PositiveIntegerField(default=0)
    level_before = models.PositiveIntegerField(default=1)
    level_after = models.PositiveIntegerField(default=1)
    # A copy of the match's time, so "matches during an event" is one indexed range per player.
    recorded_at = models.DateTimeField()
    # False for a player banned when the match was recorded: the line is kept (the match
    # happened), but it granted nothing and counts towards no event.
    counted = models.BooleanField(default=True, db_default=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["match", "player"], name="one_result_per_player")
        ]
        indexes = [models.Index(fields=["player", "recorded_at"])]

    def __str__(self) -> str:
        return f"{self.player_id} {self.outcome} in {self.match_id}"


class RegisteredServer(models.Model):
    """A game server as of its last heartbeat; listed only while that is within the TTL."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="servers")
    server_id = models.CharField(max_length=100)
    region = models.CharField(max_length=32)
    address = models.CharField(max_length=255)
    port = models.PositiveIntegerField()
    capacity = models.PositiveIntegerField()
    players = models.PositiveIntegerField(default=0)
    mode = models.CharField(max_length=32, blank=True)
    version = models.CharField(max_length=32, blank=True)
    registered_at = models.DateTimeField()
    last_heartbeat_at = models.DateTimeField()
    server_key = models.ForeignKey(
        ServerKey, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "server_id"], name="one_entry_per_server"),
            models.CheckConstraint(
                condition=Q(players__lte=F("capacity")), name="server_players_lte_capacity"
            ),
        ]
        indexes = [models.Index(fields=["game", "last_heartbeat_at"])]

    def __str__(self) -> str:
        return f"{self.server_id} ({self.region})"

    @property
    def free_slots(self) -> int:
        return self.capacity - self.players
