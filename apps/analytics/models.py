"""Raw analytics events (append-only) and the daily aggregates dashboards read.

Raw rows are indexed by game and day (and by game, name and day for the panel's own facts) and
pruned after `ANALYTICS_RAW_RETENTION_DAYS`; aggregates are kept. Aggregate rows are written only
by `apps.analytics.aggregation`, one set-based statement per table and range of days.
"""

from __future__ import annotations

from django.db import models

from apps.accounts.models import Game, Player


class RawEvent(models.Model):
    class Source(models.TextChoices):
        CLIENT = "client", "Client"
        SERVER = "server", "Panel"

    # The composite indexes below start with game: a single-column one would only slow inserts.
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+", db_index=False)
    player = models.ForeignKey(Player, null=True, on_delete=models.SET_NULL, related_name="+")
    source = models.CharField(max_length=6, choices=Source.choices)
    name = models.CharField(max_length=64)
    event_id = models.CharField(max_length=64, null=True, blank=True)
    occurred_at = models.DateTimeField()
    day = models.DateField()
    received_at = models.DateTimeField(auto_now_add=True)
    properties = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["game", "day", "name"]),
            # The panel's own facts (purchases, matches, new players) are few among many client
            # events: this index lets aggregation read only them for a range of days.
            models.Index(fields=["game", "name", "day"], name="raw_event_game_name_day"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["game", "player", "event_id"],
                condition=models.Q(event_id__isnull=False),
                name="raw_event_once_per_event_id",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} @ {self.occurred_at:%Y-%m-%d %H:%M}"


class DirtyDay(models.Model):
    """A day that received an event after the recent-days aggregation stopped looking at it.

    Each mark adds one to `version` (in the database, not from a clock): the beat deletes the
    row only if the version it read is still there, so a batch that commits while the beat
    aggregates the day keeps it dirty."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    marked_at = models.DateTimeField(auto_now=True)
    # db_default (here and on OfferDay.real_money): for the INSERTs of a release before the
    # column, while that release still serves during an upgrade.
    version = models.BigIntegerField(default=1, db_default=1)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["game", "day"], name="dirty_day_once")]

    def __str__(self) -> str:
        return f"game {self.game_id} {self.day}"


class PlayerDay(models.Model):
    """One row per player active on a day: the base of DAU, MAU and retention.

    Millions of rows, written in bulk by aggregation: besides the composite key, one index for
    what aggregation reads and deletes (a game's range of days). Neither column is a database
    foreign key (a deleted player's history still counts)."""

    pk = models.CompositePrimaryKey("game_id", "player_id", "day")
    game_id = models.BigIntegerField()
    player_id = models.BigIntegerField()
    day = models.DateField()
    events = models.IntegerField(default=0)
    sessions = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["game_id", "day"], name="player_day_game_day")]

    def __str__(self) -> str:
        return f"player {self.player_id} on {self.day}"


class RecentRun(models.Model):
    """The day of a game's last recent-days aggregation (the beat's). The next run marks the
    days since as dirty, so an outage of the beat leaves no day with partial numbers."""

    game = models.OneToOneField(Game, primary_key=True, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()

    def __str__(self) -> str:
        return f"game {self.game_id} {self.day}"


class DailyMetrics(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    dau = models.IntegerField(default=0)
    mau = models.IntegerField(default=0, help_text="Distinct players active in the 30 days to day.")
    new_players = models.IntegerField(default=0)
    sessions = models.IntegerField(default=0)
    events = models.BigIntegerField(default=0)
    paying_users = models.IntegerField(default=0, help_text="Players with a real-money purchase.")
    purchases = models.IntegerField(default=0)
    refunds = models.IntegerField(default=0)
    matches = models.IntegerField(default=0, help_text="Distinct match ids.")
    match_players = models.IntegerField(default=0, help_text="Players' match results.")
    event_claims = models.IntegerField(default=0)
    battlepass_claims = models.IntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "daily metrics"
        ordering = ["game", "-day"]
        constraints = [models.UniqueConstraint(fields=["game", "day"], name="daily_metrics_once")]

    def __str__(self) -> str:
        return f"game {self.game_id} {self.day}: DAU {self.dau}"


class RetentionCell(models.Model):
    """Of the players created on `cohort_day`, how many were active `day_offset` days later.
    Offset 0 holds the cohort's size."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    cohort_day = models.DateField()
    day_offset = models.PositiveSmallIntegerField()
    retained = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["game", "cohort_day", "day_offset"], name="retention_cell_once"
            )
        ]

    def __str__(self) -> str:
        return f"cohort {self.cohort_day} +{self.day_offset}d: {self.retained}"


class RevenueDay(models.Model):
    """Purchases per day and price currency: ISO codes in minor units when real_money."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    currency = models.CharField(max_length=32)
    real_money = models.BooleanField()
    purchases = models.IntegerField(default=0)
    gross = models.BigIntegerField(default=0)
    refunds = models.IntegerField(default=0)
    refunded = models.BigIntegerField(default=0)
    paying_users = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["game", "day", "currency", "real_money"], name="revenue_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency}: {self.gross}"

    @property
    def net(self) -> int:
        return self.gross - self.refunded


class OfferDay(models.Model):
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    offer_id = models.CharField(max_length=64)
    currency = models.CharField(max_length=32)
    # Real money (an ISO code, the amount in minor units) or a virtual currency's plain units.
    real_money = models.BooleanField(default=False, db_default=False)
    purchases = models.IntegerField(default=0)
    amount = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["game", "day", "offer_id", "currency"], name="offer_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} offer {self.offer_id}: {self.purchases}"


class EconomyDay(models.Model):
    """Virtual currency created (sources) and destroyed (sinks) per ledger reason."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    currency = models.CharField(max_length=32)
    reason = models.CharField(max_length=40)
    source = models.BigIntegerField(default=0)
    sink = models.BigIntegerField(default=0)
    entries = models.IntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["game", "day", "currency", "reason"], name="economy_day_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.currency} {self.reason}: +{self.source} -{self.sink}"


class ClientEventDay(models.Model):
    """A game's own client events (`level_complete`, `tutorial_step`, …) per day and name: how
    many were sent and by how many players."""

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    name = models.CharField(max_length=64)
    events = models.BigIntegerField(default=0)
    players = models.IntegerField(default=0, help_text="Distinct players who sent it that day.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["game", "day", "name"], name="client_event_day_once")
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.name}: {self.events}"


class EventName(models.Model):
    """A client event name a game has used. A game registers at most
    `ANALYTICS_MAX_EVENT_NAMES` (apps.analytics.names): a client sending a new name per event
    cannot grow the per-name aggregates and the dashboards' lists without bound. A game that
    had more before the cap keeps them all, and gains none."""

    # The unique index starts with game: a single-column one would only slow inserts.
    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="+", db_index=False)
    name = models.CharField(max_length=64)
    first_seen = models.DateField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["game", "name"], name="event_name_once")]

    def __str__(self) -> str:
        return self.name
