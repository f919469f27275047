"""What operators do to events besides editing them: clone one (with its rewards), and let a
repeating event create its next occurrences ahead of time (a Celery beat task)."""

from __future__ import annotations

import calendar
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
    """A copy with the same window and rewards, named "<name> (copy)"; it does not repeat."""
    copy = Event.objects.create(
        game_id=event.game_id,
        name=(name or f"{event.name} (copy)")[:100],
        description=event.description,
        starts_at=event.starts_at,
        ends_at=event.ends_at,
    )
    _copy_rewards(event, copy)
    record_action(
        actor=actor,
        game=event.game,
        action="event.clone",
        target=copy,
        after={"name": copy.name, "cloned_from": event.pk, "rewards": event.rewards.count()},
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
    """Create every repeat that starts within the horizon (EVENT_REPEAT_HORIZON_DAYS) and has
    not been created yet, with the original's rewards. Safe to run any number of times and
    from several workers at once: a series has one repeat per start (a unique constraint)."""
    now = now or timezone.now()
    horizon = now + timedelta(days=settings.EVENT_REPEAT_HORIZON_DAYS)
    created = 0
    originals = Event.objects.filter(series__isnull=True).exclude(recurrence=Event.Recurrence.NONE)
    for origin in originals.select_related("game"):
        duration = origin.ends_at - origin.starts_at
        n = 1
        while True:
            start = nth_start(origin, n)
            if start > horizon or (origin.repeat_until and start > origin.repeat_until):
                break
            n += 1
            if start + duration <= now:
                continue  # a repeat that would already be over is not created late
            if Event.objects.filter(series=origin, starts_at=start).exists():
                continue
            try:
                with transaction.atomic():
                    repeat = Event.objects.create(
                        game_id=origin.game_id,
                        name=origin.name,
                        description=origin.description,
                        starts_at=start,
                        ends_at=start + duration,
                        series=origin,
                    )
                    _copy_rewards(origin, repeat)
            except IntegrityError:
                continue  # another worker created it first
            created += 1
    return created
