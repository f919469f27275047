"""Leaderboards per game: boards, their periods (one open at a time), each player's entry in a
period, the submissions that fed it (once per submission id), bracket rewards and payouts (once
per period and player)."""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q

from apps.accounts.models import Game, Player
from apps.battlepass.contents import (
    check_codes_defined,
    check_holding_limits,
    validate_contents,
)
from apps.battlepass.models import Season
from apps.stats.models import StatDefinition

# A submitted score, and a summed one, stay well inside BIGINT (and the rank key, its negation).
MAX_SCORE = 10**15
MAX_TOTAL = 2**62
METADATA_LIMIT_CAP = 4096


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """The IANA names this host's zoneinfo knows. Not every name ZoneInfo() reads: `localtime`
    is the host's own setting (another host may have another), the `right/` copies count leap
    seconds (midnight in right/Europe/Madrid reads as 22:00 UTC, not 23:00), `posix/` and
    `posixrules` are copies; available_timezones() leaves all but `localtime` out."""
    return frozenset(zoneinfo.available_timezones() - {"localtime"})


def validate_time_zone(value: str) -> None:
    if value not in iana_time_zones():
        raise ValidationError(f"Unknown time zone {value!r} (an IANA name, e.g. Europe/Madrid).")


class Board(models.Model):
    class Source(models.TextChoices):
        SERVER = "server", "Scores submitted by game servers"
        STAT = "stat", "A declared stat, fed by match results"

    class Order(models.TextChoices):
        HIGHER = "higher", "Higher is better"
        LOWER = "lower", "Lower is better"

    class Operator(models.TextChoices):
        BEST = "best", "Best (keep the best score)"
        LATEST = "latest", "Latest (replace)"
        SUM = "sum", "Sum (add each score)"

    class Reset(models.TextChoices):
        NEVER = "never", "Never"
        DAILY = "daily", "Daily"
        WEEKLY = "weekly", "Weekly (Monday)"
        MONTHLY = "monthly", "Monthly"
        SEASON = "season", "With the battle-pass season"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="leaderboards")
    slug = models.SlugField(max_length=64, help_text="What clients and servers name it by.")
    name = models.CharField(max_length=100)
    source = models.CharField(max_length=6, choices=Source.choices, default=Source.SERVER)
    stat_key = models.SlugField(
        max_length=64, blank=True, help_text="For a stat board: the declared stat's key."
    )
    allow_client_submissions = models.BooleanField(
        default=False,
        help_text="Players may submit their own scores with their token (off: servers only).",
    )
    order = models.CharField(max_length=6, choices=Order.choices, default=Order.HIGHER)
    operator = models.CharField(max_length=6, choices=Operator.choices, default=Operator.BEST)
    reset = models.CharField(max_length=7, choices=Reset.choices, default=Reset.NEVER)
    time_zone = models.CharField(
        max_length=64,
        default="UTC",
        validators=[validate_time_zone],
        help_text="The game's time zone: daily, weekly and monthly resets happen at its midnight.",
    )
    metadata_max_bytes = models.PositiveIntegerField(
        default=512,
        validators=[MinValueValidator(0), MaxValueValidator(METADATA_LIMIT_CAP)],
        help_text="Largest per-entry metadata (compact JSON, in bytes); 0 takes none.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["game", "slug"]
        constraints = [
            models.UniqueConstraint(fields=["game", "slug"], name="board_slug_per_game"),
            models.CheckConstraint(
                condition=~Q(source="stat") | ~Q(stat_key=""), name="stat_board_names_stat"
            ),
            models.CheckConstraint(
                condition=Q(metadata_max_bytes__lte=METADATA_LIMIT_CAP),
                name="board_metadata_limit_cap",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if self.source == self.Source.STAT and not self.stat_key:
            raise ValidationError({"stat_key": "A stat board names its stat."})
        if self.source == self.Source.SERVER and self.stat_key:
            raise ValidationError({"stat_key": "Only a stat board names a stat."})
        if self.source == self.Source.STAT and self.allow_client_submissions:
            raise ValidationError(
                {
                    "allow_client_submissions": "A stat board's scores come from match results: "
                    "players submit none of their own."
                }
            )
        if (
            self.source == self.Source.STAT
            and self.game_id
            and not StatDefinition.objects.filter(game_id=self.game_id, key=self.stat_key).exists()
        ):
            raise ValidationError(
                {"stat_key": f"This game declares no stat {self.stat_key!r} (Stats, admin)."}
            )

    @property
    def higher_is_better(self) -> bool:
        return self.order == self.Order.HIGHER

    @property
    def takes_client_submissions(self) -> bool:
        """Whether players may submit their own scores: a stat board takes only match results,
        whatever its flag (one saved before clean() refused the flag there)."""
        return self.source == self.Source.SERVER and self.allow_client_submissions


class Period(models.Model):
    class State(models.TextChoices):
        OPEN = "open", "Open"
        CLOSED = "closed", "Closed"

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="periods")
    number = models.PositiveIntegerField(help_text="1 for the board's first period, then 2, …")
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never resets.")
    season = models.ForeignKey(
        Season, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    state = models.CharField(max_length=6, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_by = models.CharField(max_length=150, blank=True, help_text="schedule, or operator")
    # Bracket payouts: computed once (Payout rows), then each paid once.
    payouts_computed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["board", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["board", "number"], name="period_number_per_board"),
            # One open period per board: where a score lands is never ambiguous.
            models.UniqueConstraint(
                fields=["board"], condition=Q(state="open"), name="one_open_period_per_board"
            ),
            models.CheckConstraint(
                condition=Q(ends_at__isnull=True) | Q(ends_at__gt=F("starts_at")),
                name="period_ends_after_start",
            ),
        ]
        indexes = [models.Index(fields=["state", "ends_at"], name="period_due")]

    def __str__(self) -> str:
        return f"{self.board} #{self.number}"


class Entry(models.Model):
    """A player's standing in one period, written only by `services.submit`.

    Ranked by `rank_key` (the score, negated when higher is better), then `reached_at` (first to
    reach a score ranks higher), then the player id: one index serves both orders."""

    # No index of its own: the unique (period, player) and the rank index lead with it.
    period = models.ForeignKey(
        Period, on_delete=models.CASCADE, related_name="entries", db_index=False
    )
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    score = models.BigIntegerField()
    rank_key = models.BigIntegerField()
    reached_at = models.DateTimeField()
    metadata = models.JSONField(default=dict, blank=True)
    # Grows by one on every change: the Redis rank index keeps the newest it has seen.
    version = models.BigIntegerField(default=1)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["period", "player"], name="one_entry_per_period"),
        ]
        indexes = [
            models.Index(fields=["period", "rank_key", "reached_at", "player"], name="entry_rank"),
        ]

    def __str__(self) -> str:
        return f"{self.player_id}: {self.score}"


class Submission(models.Model):
    """One submitted score, kept so that a retried submission id changes nothing. Game servers
    share one space of ids per board; each player has their own for the scores they submit
    themselves, so a player can neither take an id a server will use nor another player's."""

    board = models.ForeignKey(
        Board, on_delete=models.CASCADE, related_name="submissions", db_index=False
    )  # both unique constraints lead with it
    # A client's or server's own id is at most 100 characters (the API's limit); a stat board's
    # is "match:<match id>:<player id>", a match id being up to 100 characters itself.
    submission_id = models.CharField(max_length=160)
    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="submissions")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    score = models.BigIntegerField()
    from_client = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["board", "submission_id"],
                condition=Q(from_client=False),
                name="server_submission_once_per_board",
            ),
            models.UniqueConstraint(
                fields=["board", "player", "submission_id"],
                condition=Q(from_client=True),
                name="player_submission_once_per_board",
            ),
        ]
        # The daily prune (services.retention) finds the submissions past the retention by it.
        indexes = [models.Index(fields=["created_at"], name="submission_created")]

    def __str__(self) -> str:
        return self.submission_id


# What decides who a bracket pays and what: a change to one of these is a change of payouts.
BRACKET_PAYOUT_FIELDS = ("period_id", "position", "rank_from", "rank_to", "top_percent", "contents")


class BracketReward(models.Model):
    """What a rank range earns when a period closes: ranks `rank_from`..`rank_to`, or the top
    `top_percent` % of the ranked players. A player gets the first bracket (by position) they
    fall in. With a period set, only for that period; else for every period of the board."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="brackets")
    period = models.ForeignKey(
        Period, null=True, blank=True, on_delete=models.CASCADE, related_name="brackets"
    )
    position = models.PositiveSmallIntegerField(default=0)
    name = models.CharField(max_length=100, blank=True)
    rank_from = models.PositiveIntegerField(null=True, blank=True)
    rank_to = models.PositiveIntegerField(null=True, blank=True)
    top_percent = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    contents = models.JSONField(
        default=list,
        validators=[validate_contents],
        help_text='Granted through the ledger, e.g. [{"currency": "gold", "quantity": 100}].',
    )

    class Meta:
        ordering = ["board", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(rank_from__gte=1, rank_to__gte=F("rank_from"), top_percent__isnull=True)
                    | Q(
                        rank_from__isnull=True,
                        rank_to__isnull=True,
                        top_percent__gte=1,
                        top_percent__lte=100,
                    )
                ),
                name="bracket_ranks_or_percent",
            )
        ]

    def __str__(self) -> str:
        return self.name or self.describe()

    def describe(self) -> str:
        if self.top_percent is not None:
            return f"top {self.top_percent} %"
        if self.rank_from == self.rank_to:
            return f"rank {self.rank_from}"
        return f"ranks {self.rank_from}–{self.rank_to}"

    def clean(self) -> None:
        ranks = self.rank_from is not None or self.rank_to is not None
        if ranks == (self.top_percent is not None):
            raise ValidationError("A bracket is a rank range or a top percentage, not both.")
        if ranks and (
            self.rank_from is None
            or self.rank_to is None
            or not 1 <= self.rank_from <= self.rank_to
        ):
            raise ValidationError("Ranks run from rank_from to rank_to, both 1 or more.")
        period = self.period if self.period_id else None
        # The board as the admin edits it, unsaved on its add form (ParentAttachedFormSet).
        board = self.board if self.board_id or BracketReward.board.is_cached(self) else None
        if period is not None and board is not None and period.board_id != board.pk:
            raise ValidationError({"period": "A period of this board."})
        self._check_payouts_not_written(period)
        if not self.contents:
            raise ValidationError({"contents": "A bracket grants something."})
        if board is not None and board.game_id is not None:
            check_codes_defined(self.contents, game_id=board.game_id)
            # More of an item than a player may hold would fail every payout of the bracket.
            check_holding_limits(self.contents, game_id=board.game_id)

    def _check_payouts_not_written(self, period: Period | None) -> None:
        """A period's payouts are written once, when it has closed (services.payouts): a bracket
        added to such a period, changed, or moved off it would pay nothing, or no longer say
        what was paid. Saved unchanged (the board's form saves every inline row), it is taken."""
        stored = (
            BracketReward.objects.filter(pk=self.pk).values(*BRACKET_PAYOUT_FIELDS).first()
            if self.pk is not None and not self._state.adding
            else None
        )
        if stored is not None and all(
            getattr(self, name) == stored[name] for name in BRACKET_PAYOUT_FIELDS
        ):
            return
        periods = {period.pk if period is not None else None}
        if stored is not None:
            periods.add(stored["period_id"])
        paid = (
            Period.objects.filter(pk__in=periods - {None}, payouts_computed_at__isnull=False)
            .order_by("number")
            .first()
        )
        if paid is not None:
            raise ValidationError(
                {
                    "period": f"Period {paid.number}'s payouts were written when it closed: a "
                    "bracket added or changed for it now would pay nothing. Set brackets on the "
                    "open period (or on the board, for every period to come)."
                }
            )


class Payout(models.Model):
    """A bracket's reward to one player for one period: unique, so it is paid exactly once."""

    period = models.ForeignKey(Period, on_delete=models.CASCADE, related_name="payouts")
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="+")
    rank = models.PositiveIntegerField()
    score = models.BigIntegerField()
    bracket = models.ForeignKey(
        BracketReward, null=True, on_delete=models.SET_NULL, related_name="payouts"
    )
    contents = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    # A grant the economy refused (an item already owned, a cap reached): tried again by the
    # sweep up to LEADERBOARD_PAYOUT_ATTEMPTS times, then left for an operator.
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)
    needs_attention = models.BooleanField(default=False, db_index=True)

    class Meta:
        ordering = ["period", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["period", "player"], name="payout_once_per_period")
        ]
        indexes = [
            # The 10-minute sweep's unpaid payouts (services.payouts.periods_to_pay): a few rows
            # among every payout ever written.
            models.Index(
                fields=["period"],
                condition=Q(paid_at=None, needs_attention=False),
                name="payout_unpaid",
            )
        ]

    def __str__(self) -> str:
        return f"{self.period}: rank {self.rank} → {self.player_id}"


class RankIndexDrop(models.Model):
    """A period whose Redis rank index must be dropped: an update to it failed after its commit
    (or the period closed) and dropping it failed too, in the same Redis fault. The repair task
    (`services.index_repair`, every minute from beat) drops it once Redis answers; until then a
    ready index would be served as it stands."""

    # Not a foreign key: the keys of a period deleted since (with its board) are dropped too.
    period_id = models.BigIntegerField(unique=True)
    # New at each record: the repair deletes only the record it read, never one a failure made
    # again after the repair had dropped the keys.
    token = models.CharField(max_length=32)
    recorded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"period {self.period_id} (since {self.recorded_at:%Y-%m-%d %H:%M:%S})"
