"""Timed events per game and their rewards: a requirement met during the event, and a grant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Q, QuerySet
from django.utils import timezone

from apps.accounts.models import Game, Player
from apps.battlepass.contents import (
    check_codes_defined,
    check_holding_limits,
    no_lines_if_empty,
    validate_contents,
)
from apps.stats.selectors import stat_definitions

# An original's fields that decide when its repeats run: saved with any of them changed, its
# repeats not started follow the new schedule (authoring.reschedule_repeats, from the admin).
SCHEDULE_FIELDS = ("starts_at", "ends_at", "recurrence", "repeat_until")


class Event(models.Model):
    class Recurrence(models.TextChoices):
        NONE = "none", "Does not repeat"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month (same day; the month's last day if shorter)"

    game = models.ForeignKey(Game, on_delete=models.CASCADE, related_name="events")
    name = models.CharField(max_length=100)
    description = models.TextField(blank=True)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    active = models.BooleanField(
        default=True,
        help_text="Off: players neither see the event nor claim its rewards (a clone starts off).",
    )
    recurrence = models.CharField(
        max_length=8,
        choices=Recurrence.choices,
        default=Recurrence.NONE,
        help_text="Repeats are created ahead by a scheduled task, rewards included.",
    )
    repeat_until = models.DateTimeField(
        null=True, blank=True, help_text="No repeat starts after this. Empty: keeps repeating."
    )
    # The event a repeat was made from (its series' first event); empty for an original.
    series = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="repeats",
        editable=False,
    )  # fmt: skip
    # A repeat: which occurrence of its series it is (1 = the first after the original).
    occurrence = models.PositiveIntegerField(null=True, blank=True, editable=False)
    # An original: how many occurrences the scheduler has dealt with (made, or passed because
    # they were over). It never makes one of them again, so a repeat deleted stays deleted.
    repeats_made = models.PositiveIntegerField(default=0, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["starts_at", "name"]
        indexes = [models.Index(fields=["game", "starts_at", "ends_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="event_ends_after"
            ),
            # A series has each occurrence once, however often the scheduler runs and however
            # the original's window moves.
            models.UniqueConstraint(
                fields=["series", "occurrence"], name="one_repeat_per_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def schedule(self) -> tuple[Any, ...]:
        """SCHEDULE_FIELDS' values, to compare with the original as it was."""
        return tuple(getattr(self, name) for name in SCHEDULE_FIELDS)

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "An event ends after it starts."})
        if self.recurrence != self.Recurrence.NONE and self.starts_at and self.ends_at:
            longest = timedelta(days=7 if self.recurrence == self.Recurrence.WEEKLY else 28)
            if self.ends_at - self.starts_at > longest:
                raise ValidationError(
                    {"recurrence": "A repeating event must end before its next repeat starts."}
                )
        # The scheduler repeats originals only: a repeat's own schedule would be ignored.
        if self.series_id is not None and (
            self.recurrence != self.Recurrence.NONE or self.repeat_until is not None
        ):
            raise ValidationError(
                {"recurrence": "A repeat follows its original's schedule: change the original."}
            )
        # Before its start, repeat_until would stop a series that never repeated: a mistyped
        # date, taken silently (the scheduler just made no repeat, and a reschedule removed
        # every upcoming one).
        if self.starts_at and self.repeat_until and self.repeat_until < self.starts_at:
            start = f"{self.starts_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
            raise ValidationError(
                {
                    "repeat_until": f"Repeat until is earlier than the event's start ({start}): "
                    "set it on or after the start, or leave it empty to keep repeating."
                }
            )
        if self.active and self.starts_at and self.ends_at:
            self._refuse_a_second_live_copy()

    def _refuse_a_second_live_copy(self) -> None:
        """Two events of one series running at once would each be claimable: the scheduler
        never makes such a pair (authoring._schedule_series), nor may an operator's edit."""
        at_once = Event.objects.filter(
            active=True, starts_at__lt=self.ends_at, ends_at__gt=self.starts_at
        ).exclude(pk=self.pk)
        if self.series_id is not None:
            copies = at_once.filter(Q(pk=self.series_id) | Q(series_id=self.series_id))
        elif self.pk is not None:
            copies = at_once.filter(series_id=self.pk)
            stored = Event.objects.filter(pk=self.pk).values_list(*SCHEDULE_FIELDS).first()
            if stored != self.schedule():
                # An original's new schedule moves its changeable repeats after what stays
                # (authoring.reschedule_repeats): only the repeats that stay can clash. With its
                # schedule as it was (switched back on, renamed) nothing moves: any repeat can,
                # one moved onto its window while it was off among them.
                repeats = Event.objects.filter(series_id=self.pk)
                moved = changeable_repeats(repeats, now=timezone.now()).values("pk")
                copies = copies.exclude(pk__in=moved)
        else:
            return
        clash = copies.order_by("starts_at").first()
        if clash is not None:
            raise ValidationError(
                f"Another event of this series runs then ({clash.name}, from "
                f"{clash.starts_at:%Y-%m-%d %H:%M} UTC): both would be claimable. Move this one "
                "or switch the other off."
            )


class EventReward(models.Model):
    class Requirement(models.TextChoices):
        NONE = "none", "None (log in during the event)"
        STAT = "stat", "A stat reaches the target in matches during the event"
        MATCHES_PLAYED = "matches_played", "Matches played during the event"
        MATCHES_WON = "matches_won", "Matches won during the event"

    event = models.ForeignKey(Event, on_delete=models.CASCADE, related_name="rewards")
    name = models.CharField(max_length=100)
    requirement = models.CharField(
        max_length=14, choices=Requirement.choices, default=Requirement.NONE
    )
    stat_key = models.SlugField(
        max_length=64, blank=True, help_text="For a stat requirement: the stat's key."
    )
    target = models.PositiveIntegerField(
        default=1, help_text="Matches, or the stat's value (for a min stat: at most this)."
    )
    contents = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_contents],
        help_text='Granted through the ledger, e.g. [{"currency": "gold", "quantity": 100}].',
    )
    battlepass_xp = models.PositiveIntegerField(default=0, help_text="Season XP granted.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["event", "position", "id"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(requirement="stat") | ~Q(stat_key=""), name="stat_reward_names_stat"
            )
        ]

    def __str__(self) -> str:
        return f"{self.event}: {self.name}"

    def clean(self) -> None:
        self.contents = no_lines_if_empty(self.contents)  # before the save: never a 500 or {}
        if self.requirement == self.Requirement.STAT and not self.stat_key:
            raise ValidationError({"stat_key": "A stat requirement names its stat."})
        if not self.contents and not self.battlepass_xp:
            raise ValidationError("A reward grants contents, battle-pass XP, or both.")
        try:
            game_id = self.event.game_id  # the admin's inline sets a new event unsaved
        except Event.DoesNotExist:
            return  # no event yet: the form reports it
        if game_id is None:
            return
        check_codes_defined(self.contents, game_id=game_id)
        check_holding_limits(self.contents, game_id=game_id)
        if self.requirement == self.Requirement.STAT and self.stat_key not in stat_definitions(
            game_id=game_id
        ):
            raise ValidationError(
                {"stat_key": f"This game declares no stat {self.stat_key!r} (Stats, admin)."}
            )


class EventRewardClaim(models.Model):
    player = models.ForeignKey(Player, on_delete=models.CASCADE, related_name="event_claims")
    # PROTECT: deleting a claimed reward (or its event) would let players claim it again.
    reward = models.ForeignKey(EventReward, on_delete=models.PROTECT, related_name="claims")
    claimed_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # The database, not Python, makes a reward grant once per player.
            models.UniqueConstraint(fields=["player", "reward"], name="claim_reward_once")
        ]

    def __str__(self) -> str:
        return f"{self.player_id} claimed {self.reward_id}"


def changeable_repeats(repeats: QuerySet[Event], *, now: datetime) -> QuerySet[Event]:
    """Those of `repeats` a change to their original may move or delete: not started, none of
    their rewards claimed. A repeat that started or was claimed is what players saw: it stays."""
    return repeats.filter(occurrence__isnull=False, starts_at__gt=now).exclude(
        rewards__claims__isnull=False
    )
