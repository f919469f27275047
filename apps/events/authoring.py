"""What operators do to events besides editing them: clone one (with its rewards), and let a
repeating event create its next occurrences ahead of time (a Celery beat task)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.audit.services import record_action
from apps.events.models import Event, EventReward

REWARD_FIELDS = (
    "name",
    "requirement",
    "stat_key",
    "target",
    "contents",
    "battlepass_xp",
    "position",
)


@transaction.atomic
def clone_event(*, event: Event, actor: User | None, name: str = "") -> Event:
    """An inactive copy with the same window and rewards, named "<name> (copy)", to edit and
    switch on (a clone of a running event would otherwise be live at once); it does not
    repeat."""
    copy = Event.objects.create(
        game_id=event.game_id,
        name=(name or f"{event.name} (copy)")[:100],
        description=event.description,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
        active=False,
    )
    _copy_rewards(event, copy)
    record_action(
        actor=actor,
        game=event.game,
        action="event.clone",
        target=copy,
        after={
            "name": copy.name,
            "cloned_from": event.pk,
            "rewards": event.rewards.count(),
            "active": False,
        },
    )
    return copy


def _copy_rewards(source: Event, target: Event) -> None:
    EventReward.objects.bulk_create(
        [
            EventReward(event=target, **{f: getattr(r, f) for f in REWARD_FIELDS})
            for r in source.rewards.order_by("position", "id")
        ]
    )


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later; the month's last day when it is shorter."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def nth_start(origin: Event, n: int) -> datetime:
    """The start of the series' n-th repeat (n = 0 is the original), in the game's time as
    stored (UTC): weekly adds 7 days per repeat; monthly counts months from the original."""
    if origin.recurrence == Event.Recurrence.WEEKLY:
        return origin.starts_at + timedelta(weeks=n)
    return add_months(origin.starts_at, n)


def schedule_repeats(*, now: datetime | None = None) -> int:
    """Create every repeat of an active original that starts within the horizon
    (EVENT_REPEAT_HORIZON_DAYS), with the original's rewards. Each occurrence is dealt with
    once (the original counts them in `repeats_made`): safe to run any number of times and from
    several workers at once, and a repeat an operator deleted is not made again."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.EVENT_REPEAT_HORIZON_DAYS)
    originals = (
        Event.objects.filter(series__isnull=True, active=True)
        .exclude(recurrence=Event.Recurrence.NONE)
        .values_list("pk", flat=True)
    )
    return sum(
        _schedule_series(origin_id=origin_id, now=now, horizon=horizon)
        for origin_id in list(originals)
    )


@transaction.atomic
def _schedule_series(*, origin_id: int, now: datetime, horizon: datetime) -> int:
    # The original's row lock orders this run after another worker's and after an operator's
    # edit of the original (reschedule_repeats): each then sees what the other did.
    origin = Event.objects.select_for_update().filter(pk=origin_id).first()
    if origin is None or origin.recurrence == Event.Recurrence.NONE or not origin.active:
        return 0
    duration = origin.ends_at - origin.starts_at
    created, n = 0, origin.repeats_made
    while True:
        start = nth_start(origin, n + 1)
        if start > horizon or (origin.repeat_until and start > origin.repeat_until):
            break
        n += 1
        if start + duration <= now:
            continue  # a repeat that would already be over is not created late
        try:
            with transaction.atomic():
                repeat = Event.objects.create(
                    game_id=origin.game_id,
                    name=origin.name,
                    description=origin.description,
                    starts_at=start,
                    ends_at=start + duration,
                    series=origin,
                    occurrence=n,
                )
                _copy_rewards(origin, repeat)
        except IntegrityError:
            continue  # the occurrence exists (the unique constraint has the last word)
        created += 1
    if n != origin.repeats_made:
        Event.objects.filter(pk=origin.pk).update(repeats_made=n)
    return created


@dataclass(frozen=True)
class Rescheduled:
    moved: int
    removed: int


@transaction.atomic
def reschedule_repeats(
    *, origin: Event, actor: User | None, now: datetime | None = None
) -> Rescheduled:
    """Call after an original's window, recurrence or repeat_until changed. Each repeat made of
    it that has not started and has no claim moves to its occurrence's new window, or goes when
    the series no longer has that occurrence (it no longer repeats, or the occurrence starts
    after repeat_until) or its new window is already over. Repeats that started or were claimed
    stay as they are. Occurrences past the series' new end are forgotten, so lengthening it
    again makes them anew; a repeat deleted inside it stays deleted."""
    now = now or timezone.now()
    origin = Event.objects.select_for_update().get(pk=origin.pk)
    if origin.series_id is not None:
        return Rescheduled(moved=0, removed=0)  # a repeat is not an original
    duration = origin.ends_at - origin.starts_at
    moved: list[Event] = []
    removed: list[int] = []
    untouched = (
        origin.repeats.filter(occurrence__isnull=False, starts_at__gt=now)
        .exclude(rewards__claims__isnull=False)
        .order_by("occurrence")
    )
    movable = list(untouched)
    # What stays where it is (the original, repeats that started or were claimed): a repeat
    # moved onto one of these windows would be a second live copy of it, its rewards claimable
    # twice (moving the original a week earlier puts occurrence 2 on occurrence 1's running
    # week). Such a repeat goes instead.
    kept = [(origin.starts_at, origin.ends_at)] + [
        (repeat.starts_at, repeat.ends_at)
        for repeat in origin.repeats.exclude(pk__in=[repeat.pk for repeat in movable])
    ]
    for repeat in movable:
        assert repeat.occurrence is not None  # the filter says so
        start = occurrence_start(origin, repeat.occurrence)
        if (
            start is None
            or start + duration <= now
            or any(start < end and begin < start + duration for begin, end in kept)
        ):
            removed.append(repeat.pk)
        elif (repeat.starts_at, repeat.ends_at) != (start, start + duration):
            repeat.starts_at, repeat.ends_at = start, start + duration
            moved.append(repeat)
    Event.objects.filter(pk__in=removed).delete()
    Event.objects.bulk_update(moved, ["starts_at", "ends_at"])
    last = last_occurrence(origin, upto=origin.repeats_made)
    if last != origin.repeats_made:
        Event.objects.filter(pk=origin.pk).update(repeats_made=last)
    if moved or removed:
        record_action(
            actor=actor,
            game=origin.game,
            action="event.reschedule_repeats",
            target=origin,
            after={"moved": [e.pk for e in moved], "removed": removed},
        )
    return Rescheduled(moved=len(moved), removed=len(removed))


def occurrence_start(origin: Event, n: int) -> datetime | None:
    """When the series' n-th repeat starts, or None when the series has no such repeat (it does
    not repeat, or that one starts after repeat_until)."""
    if origin.recurrence == Event.Recurrence.NONE:
        return None
    start = nth_start(origin, n)
    if origin.repeat_until and start > origin.repeat_until:
        return None
    return start


def last_occurrence(origin: Event, *, upto: int) -> int:
    """The last occurrence, of the first `upto`, that the series still has."""
    n = 0
    while n < upto and occurrence_start(origin, n + 1) is not None:
        n += 1
    return n
