"""What operators do to events besides editing them: clone one (with its rewards), let a
repeating event create its next occurrences ahead of time (a Celery beat task), and delete
events (an original with the repeats it made that have not started)."""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from apps.audit.services import record_action
from apps.events.models import Event, EventReward, changeable_repeats

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


# The calendar's last instant (the end of year 9999): no occurrence starts or ends past it.
LAST_MOMENT = datetime.max.replace(tzinfo=UTC)


def nth_start(origin: Event, n: int) -> datetime | None:
    """The start of the series' n-th repeat (n = 0 is the original), in the game's time as
    stored (UTC): weekly adds 7 days per repeat; monthly counts months from the original.
    None past the calendar (a repeat that would start or end after year 9999): the series has
    no such occurrence, where the date arithmetic raised and stopped the scheduler for every
    series after it, any game's."""
    try:
        if origin.recurrence == Event.Recurrence.WEEKLY:
            start = origin.starts_at + timedelta(weeks=n)
        else:
            start = add_months(origin.starts_at, n)
    except (OverflowError, ValueError):  # year 10000
        return None
    return start if start <= LAST_MOMENT - (origin.ends_at - origin.starts_at) else None


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
    # The series' events a repeat made now could overlap: one kept from a schedule since
    # changed may run when this schedule's next occurrence would.
    taken = list(
        Event.objects.filter(
            Q(pk=origin.pk) | Q(series=origin), ends_at__gt=now - duration
        ).values_list("starts_at", "ends_at")
    )
    created, n = 0, origin.repeats_made
    while True:
        start = nth_start(origin, n + 1)
        if (
            start is None
            or start > horizon
            or (origin.repeat_until and start > origin.repeat_until)
        ):
            break
        n += 1
        if start + duration <= now:
            continue  # a repeat that would already be over is not created late
        if any(begin < start + duration and start < end for begin, end in taken):
            continue  # never a second live copy of the series (its rewards claimable twice)
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
        taken.append((repeat.starts_at, repeat.ends_at))
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
    *,
    origin: Event,
    actor: User | None,
    before: Event | None = None,
    now: datetime | None = None,
) -> Rescheduled:
    """Call after an original's window, recurrence or repeat_until changed, with the original
    as it was (`before`; without it, the occurrences are taken to be counted as they were).

    What started or was claimed stays as it is, with the original. The other repeats keep their
    place in the series counted from there: the one that was the first occurrence after what
    stays becomes the new schedule's first (the first that starts once all that stays has ended
    and is not over yet), the next the next, and so on; so a change of recurrence or a start
    moved by weeks leaves no second live copy of a running repeat and no months of silence, and
    an upcoming repeat the operator deleted stays a gap. A repeat goes when the series has no
    such occurrence (it no longer repeats, or that one starts after repeat_until); occurrences
    past the series' new end are forgotten, so lengthening it again makes them anew."""
    now = now or timezone.now()
    origin = Event.objects.select_for_update().get(pk=origin.pk)
    if origin.series_id is not None:
        return Rescheduled(moved=0, removed=0)  # a repeat is not an original
    before = before or origin
    duration = origin.ends_at - origin.starts_at
    movable = list(changeable_repeats(origin.repeats.all(), now=now).order_by("occurrence"))
    kept_ends = list(
        origin.repeats.exclude(pk__in=[repeat.pk for repeat in movable]).values_list(
            "ends_at", flat=True
        )
    )
    resume = first_occurrence_after(
        lambda n: occurrence_start(origin, n),
        ended=max([origin.ends_at, *kept_ends]),
        now=now,
        duration=duration,
    )
    was = (
        None
        if before.recurrence == Event.Recurrence.NONE
        else first_occurrence_after(
            lambda n: nth_start(before, n),
            ended=max([before.ends_at, *kept_ends]),
            now=now,
            duration=duration,
        )
    )
    shift = resume - was if resume is not None and was is not None else 0
    moved: list[Event] = []
    changed: list[Event] = []
    removed: list[int] = []
    for repeat in movable:
        assert repeat.occurrence is not None  # the filter says so
        n = repeat.occurrence + shift
        start = occurrence_start(origin, n) if resume is not None and n >= resume else None
        if start is None:
            removed.append(repeat.pk)
            continue
        if (repeat.starts_at, repeat.ends_at) != (start, start + duration):
            moved.append(repeat)
        elif n == repeat.occurrence:
            continue
        repeat.starts_at, repeat.ends_at, repeat.occurrence = start, start + duration, n
        changed.append(repeat)
    Event.objects.filter(pk__in=removed).delete()
    if resume is not None:
        # The numbers from `resume` on are the new schedule's: a kept repeat numbered under an
        # old one gives its number up (or the scheduler would never make that occurrence), and
        # so does each repeat about to take another number (the constraint checks every row).
        renumbered = {repeat.pk for repeat in changed}
        origin.repeats.filter(occurrence__gte=resume).exclude(
            pk__in=[repeat.pk for repeat in movable if repeat.pk not in renumbered]
        ).update(occurrence=None)
    Event.objects.bulk_update(changed, ["starts_at", "ends_at", "occurrence"])
    made = origin.repeats_made + shift
    if resume is not None:
        made = max(made, resume - 1)
    made = last_occurrence(origin, upto=max(made, 0))
    if made != origin.repeats_made:
        Event.objects.filter(pk=origin.pk).update(repeats_made=made)
    if moved or removed or shift:
        record_action(
            actor=actor,
            game=origin.game,
            action="event.reschedule_repeats",
            target=origin,
            after={
                "moved": [e.pk for e in moved],
                "removed": removed,
                "renumbered_by": shift,
            },
        )
    return Rescheduled(moved=len(moved), removed=len(removed))


def repeats_deleted_with(event_ids: Iterable[int], *, now: datetime) -> QuerySet[Event]:
    """The repeats that deleting these events deletes too (delete_events): each original's
    changeable repeats, the events themselves left out."""
    ids = list(event_ids)
    return changeable_repeats(Event.objects.filter(series__in=ids).exclude(pk__in=ids), now=now)


def lock_for_deletion(event_ids: Iterable[int], *, now: datetime) -> list[Event]:
    """Call inside a deletion's transaction, before its claims are looked for: the originals
    among the events (returned), then the rewards of the events and of the repeats that would
    go with them, locked FOR UPDATE in id order (as the scheduler and a reschedule lock the
    original first). A claim under way holds its reward FOR KEY SHARE until it commits
    (services.KEY_SHARE_REWARD) with its row not yet visible, so a deletion that looked first
    found no claim, then its DELETE waited for the claim and failed at commit on the claim's
    foreign key (a 500). Now the deletion waits for the claim and then sees it (the reward is
    protected, a repeat claimed stays); a claim starting meanwhile waits for the deletion and
    finds its reward gone (reward_not_found). SQLite serializes writes anyway."""
    ids = list(event_ids)
    originals = list(
        Event.objects.select_for_update().filter(pk__in=ids, series__isnull=True).order_by("pk")
    )
    going = repeats_deleted_with(ids, now=now).values_list("pk", flat=True)
    rewards = EventReward.objects.select_for_update().filter(event_id__in=[*ids, *going])
    list(rewards.order_by("pk").values_list("pk", flat=True))  # no join: Meta orders by event
    return originals


@dataclass(frozen=True)
class Deleted:
    repeats_removed: int
    repeats_kept: int  # started or claimed: standalone events from now on


@transaction.atomic
def delete_events(
    *, events: Iterable[Event], actor: User | None, now: datetime | None = None
) -> Deleted:
    """Delete events, each original with its changeable repeats, as when it stops repeating:
    left behind, they would run as standalone events beside the repeats of a series recreated
    in its place, every such week's rewards claimable twice. Its repeats that started or were
    claimed stay, as standalone events (`series` empty): players are in them or hold their
    rewards. Audited per original as `event.delete_repeats`; the caller audits the events."""
    now = now or timezone.now()
    ids = {event.pk for event in events}
    # Locked as the scheduler locks an original before it adds to the series: a run under way
    # commits its repeat first (deleted here), a later one finds the original gone. The rewards
    # too, so a claim under way protects its reward instead of failing the deletion at commit.
    originals = lock_for_deletion(ids, now=now)
    going = dict(repeats_deleted_with(ids, now=now).values_list("pk", "series_id").order_by("pk"))
    staying = dict(
        Event.objects.filter(series__in=[origin.pk for origin in originals])
        .exclude(pk__in=[*ids, *going])
        .values_list("pk", "series_id")
        .order_by("pk")
    )
    for origin in originals:
        removed = [pk for pk, series in going.items() if series == origin.pk]
        kept = [pk for pk, series in staying.items() if series == origin.pk]
        if removed or kept:
            record_action(
                actor=actor,
                game=origin.game,
                action="event.delete_repeats",
                target=origin,
                after={"removed": removed, "kept": kept},
            )
    Event.objects.filter(pk__in=[*ids, *going]).delete()
    return Deleted(repeats_removed=len(going), repeats_kept=len(staying))


def first_occurrence_after(
    start_of: Callable[[int], datetime | None],
    *,
    ended: datetime,
    now: datetime,
    duration: timedelta,
) -> int | None:
    """The first occurrence (from 1) that starts once `ended` has passed and is not over at
    `now`; None when the series has none (start_of answers None)."""
    n = 1
    while (start := start_of(n)) is not None:
        if start >= ended and start > now - duration:  # not over (its end may not fit)
            return n
        n += 1
    return None


def occurrence_start(origin: Event, n: int) -> datetime | None:
    """When the series' n-th repeat starts, or None when the series has no such repeat (it does
    not repeat, or that one starts after repeat_until)."""
    if origin.recurrence == Event.Recurrence.NONE:
        return None
    start = nth_start(origin, n)
    if start is None or (origin.repeat_until and start > origin.repeat_until):
        return None
    return start


def last_occurrence(origin: Event, *, upto: int) -> int:
    """The last occurrence, of the first `upto`, that the series still has."""
    n = 0
    while n < upto and occurrence_start(origin, n + 1) is not None:
        n += 1
    return n
