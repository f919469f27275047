"""Recording analytics facts. Other apps call `record_server_event` for what the panel itself
knows (logins, purchases, matches, claims); clients send their own events in batches through
`ingest_client_events` and cannot use the panel's names."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from apps.accounts.errors import AccountDeleted
from apps.accounts.models import Player
from apps.accounts.selectors import erased_under_share_lock
from apps.analytics.errors import (
    BatchTooLarge,
    EventOutOfRange,
    PropertiesTooLarge,
    ReservedEventName,
    TooManyEventNames,
)
from apps.analytics.models import DirtyDay, RawEvent
from apps.analytics.names import names_over_cap
from gamingpanel.errors import DomainError
from gamingpanel.sql import CompiledInsert, Statement
from gamingpanel.storable import (
    MAX_DEPTH,
    UnsupportedCharacter,
    ValueTooDeep,
    has_unstorable_text,
    stored_json,
    too_deep,
)

SERVER_EVENT_NAMES = frozenset(
    {
        "session_start",  # login or refresh; properties: {"kind": "login"|"refresh", "platform"}
        "player_created",
        # {"offer_id", "purchase_id", "currency", "amount", "real_money"}; amount in minor units
        "purchase_completed",
        "purchase_refunded",  # the same properties as the purchase it refunds
        "match_played",  # {"match_id", "mode", "outcome"}
        "event_reward_claimed",  # {"event_id", "reward_id"}
        "battlepass_tier_claimed",  # {"season_id", "level", "track"}
    }
)
# Days a late event does not mark dirty (today and yesterday): the recent-days aggregation
# recomputes them, and the day before them, on every run (maintenance.RECOMPUTED_DAYS).
RECENT_DAYS = 2
# Compiled once (gamingpanel.sql): every app records its facts through it, purchases included.
INSERT_EVENT = CompiledInsert.compile(RawEvent)
DIRTY_DAY = DirtyDay._meta.db_table


def record_server_event(
    *,
    game_id: int,
    player_id: int | None,
    name: str,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> RawEvent:
    """Call inside the transaction of the fact it records, so both land or neither does."""
    event = _server_event(game_id, player_id, name, properties, occurred_at)
    INSERT_EVENT.insert(event)
    return event


def server_event_statement(
    *,
    game_id: int,
    player_id: int | None,
    name: str,
    properties: dict[str, Any] | None = None,
    occurred_at: datetime | None = None,
) -> Statement:
    """record_server_event's insert as a statement for `gamingpanel.sql.run_together`, for a
    caller that sends it with its own next statement (a purchase's fact with the wallet lock);
    the event's id is not read back. Send it inside the transaction of the fact it records."""
    return INSERT_EVENT.insert_statement(
        _server_event(game_id, player_id, name, properties, occurred_at)
    )


def _server_event(
    game_id: int,
    player_id: int | None,
    name: str,
    properties: dict[str, Any] | None,
    occurred_at: datetime | None,
) -> RawEvent:
    if name not in SERVER_EVENT_NAMES:
        raise ValueError(f"Unknown server event {name!r}; add it to SERVER_EVENT_NAMES.")
    occurred_at = occurred_at or timezone.now()
    event = RawEvent(
        game_id=game_id,
        player_id=player_id,
        source=RawEvent.Source.SERVER,
        name=name,
        occurred_at=occurred_at,
        day=utc_day(occurred_at),
        properties=properties or {},
    )
    mark_late_days(game_id=game_id, days=[event.day])
    return event


@dataclass(frozen=True)
class ServerFact:
    player_id: int | None
    name: str
    properties: dict[str, Any] | None = None
    occurred_at: datetime | None = None


def record_server_events(*, game_id: int, facts: Sequence[ServerFact]) -> int:
    """Many facts of one game in one INSERT (a match's players, say). Same rules as
    `record_server_event`; call it inside the transaction of what it records."""
    if unknown := {fact.name for fact in facts} - SERVER_EVENT_NAMES:
        raise ValueError(
            f"Unknown server events {sorted(unknown)}; add them to SERVER_EVENT_NAMES."
        )
    now = timezone.now()
    rows = [
        RawEvent(
            game_id=game_id,
            player_id=fact.player_id,
            source=RawEvent.Source.SERVER,
            name=fact.name,
            occurred_at=fact.occurred_at or now,
            day=utc_day(fact.occurred_at or now),
            properties=fact.properties or {},
        )
        for fact in facts
    ]
    RawEvent.objects.bulk_create(rows)
    mark_late_days(game_id=game_id, days={row.day for row in rows})
    return len(rows)


@dataclass(frozen=True)
class ClientEvent:
    name: str
    occurred_at: datetime
    properties: dict[str, Any]
    event_id: str | None = None
    index: int = 0  # its place in the batch the client sent, to name it in a rejection


@dataclass(frozen=True)
class Rejection:
    """An event of a batch that was not stored, and why (a problem code)."""

    index: int
    code: str
    detail: str
    errors: dict[str, Any] | None = None


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    rejected: list[Rejection] = field(default_factory=list)


@transaction.atomic
def ingest_client_events(
    *,
    player: Player,
    events: Sequence[ClientEvent],
    rejected: Sequence[Rejection] = (),
) -> IngestResult:
    """Store a client's batch append-only: every event that passes the rules, and a rejection
    for each one that does not (`rejected` brings those the caller already refused, e.g. for
    their shape; a new name past the game's cap is one, see apps.analytics.names). An event_id
    already stored for this player (a retry) or repeated in the batch is stored once. An erased
    player's batch is refused whole (AccountDeleted), even one whose token was checked before."""
    if len(events) + len(rejected) > settings.ANALYTICS_MAX_BATCH:
        raise BatchTooLarge(f"At most {settings.ANALYTICS_MAX_BATCH} events per batch.")
    # One read by primary key per batch, before anything is written, its share held to the
    # commit: without it a batch checked before the erasure would insert after its clean-up (the
    # inserts' KEY SHARE does not wait for the erasure's NO KEY UPDATE).
    if erased_under_share_lock(player.pk):
        raise AccountDeleted("This account was deleted.")
    refused = [*rejected, *_rejections(events)]
    refused_at = {rejection.index for rejection in refused}
    events = [event for event in events if event.index not in refused_at]
    if over := names_over_cap(game_id=player.game_id, names=[event.name for event in events]):
        refused += _over_cap(event for event in events if event.name in over)
        events = [event for event in events if event.name not in over]
    unique: dict[str, ClientEvent] = {}
    anonymous: list[ClientEvent] = []
    for event in events:
        if event.event_id is None:
            anonymous.append(event)
        else:
            unique.setdefault(event.event_id, event)
    if unique and connection.vendor == "postgresql":
        # One batch with ids of a player at a time, to its commit: a retry sent while the first
        # call is still storing the batch waits for it, then finds its events stored (else both
        # look up before either commits and both answer them as accepted).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                [f"analytics-events:{player.pk}"],
            )
    stored = set(
        RawEvent.objects.filter(
            game_id=player.game_id, player=player, event_id__in=list(unique)
        ).values_list("event_id", flat=True)
    )
    fresh = [*anonymous, *(e for key, e in unique.items() if key not in stored)]
    RawEvent.objects.bulk_create(
        [
            RawEvent(
                game_id=player.game_id,
                player=player,
                source=RawEvent.Source.CLIENT,
                name=event.name,
                event_id=event.event_id,
                occurred_at=event.occurred_at,
                day=utc_day(event.occurred_at),
                properties=event.properties,
            )
            for event in fresh
        ],
        # A concurrent retry of the same batch may insert between our look-up and here.
        ignore_conflicts=True,
    )
    mark_late_days(game_id=player.game_id, days={utc_day(e.occurred_at) for e in fresh})
    return IngestResult(
        accepted=len(fresh),
        duplicates=len(events) - len(fresh),
        rejected=sorted(refused, key=lambda rejection: rejection.index),
    )


def _rejections(events: Sequence[ClientEvent]) -> list[Rejection]:
    """Each event the rules refuse: a name the panel records itself, a time outside the window
    (ANALYTICS_MAX_CLOCK_SKEW_SECONDS back, ANALYTICS_MAX_FUTURE_SECONDS ahead), properties over
    ANALYTICS_MAX_PROPERTIES_BYTES, or properties the database cannot store (U+0000, nested
    past MAX_DEPTH)."""
    now = timezone.now()
    earliest = _shifted(now, -settings.ANALYTICS_MAX_CLOCK_SKEW_SECONDS)
    latest = _shifted(now, settings.ANALYTICS_MAX_FUTURE_SECONDS)
    refused = []
    for event in events:
        problem: DomainError | None = None
        if event.name in SERVER_EVENT_NAMES:
            problem = ReservedEventName(f"{event.name!r} is recorded by the panel itself.")
        elif not earliest <= event.occurred_at <= latest:
            problem = EventOutOfRange(
                f"occurred_at must be between {earliest:%Y-%m-%dT%H:%M:%SZ} "
                f"and {latest:%Y-%m-%dT%H:%M:%SZ}."
            )
        elif (size := _compact_size(event.properties)) > settings.ANALYTICS_MAX_PROPERTIES_BYTES:
            # Measured first: an event of a hundred thousand keys costs one encoding, not one
            # per check below.
            problem = PropertiesTooLarge(
                f"properties are {size} bytes, at most {settings.ANALYTICS_MAX_PROPERTIES_BYTES}."
            )
        elif too_deep(event.properties):
            problem = ValueTooDeep(
                f"properties nest arrays and objects more than {MAX_DEPTH} levels deep."
            )
        elif has_unstorable_text(event.properties):
            problem = UnsupportedCharacter(
                "properties hold U+0000 or a lone surrogate in a key or a string; the panel "
                "stores neither."
            )
        if problem is not None:
            refused.append(Rejection(index=event.index, code=problem.code, detail=str(problem)))
    return refused


def _shifted(now: datetime, seconds: int) -> datetime:
    """`now` moved by `seconds`, or the calendar's edge: a window of millennia (an "accept any
    age" setting) accepts every date, where the timedelta would raise OverflowError (a 500) on
    every batch."""
    edge = (datetime.max if seconds > 0 else datetime.min).replace(tzinfo=UTC)
    if abs(seconds) >= abs((edge - now).total_seconds()):
        return edge
    return now + timedelta(seconds=seconds)


def _compact_size(properties: dict[str, Any]) -> int:
    """UTF-8 bytes of the compact JSON, as the guide and the kits count them ("é" is 2 bytes,
    not the 6 of its \\u00e9 escape), each number as it is stored (gamingpanel.storable: `1e308`
    is kept as 309 digits); 0 for a value too deep to encode (too_deep refuses it)."""
    try:
        return stored_json(properties)[1]
    except (RecursionError, TypeError, ValueError):
        return 0


def _over_cap(events: Iterable[ClientEvent]) -> list[Rejection]:
    """Events with a name the game has no room for (apps.analytics.names)."""
    cap = settings.ANALYTICS_MAX_EVENT_NAMES
    return [
        Rejection(
            index=event.index,
            code=TooManyEventNames.code,
            detail=f"This game has its {cap} event names (ANALYTICS_MAX_EVENT_NAMES) and "
            f"{event.name!r} is not one of them: send one of its names, with what varies (a "
            "level, an id) in properties.",
        )
        for event in events
    ]


def mark_late_days(*, game_id: int, days: Iterable[date], today: date | None = None) -> None:
    """Days older than the recent window get re-aggregated by the next beat run. Recent days
    are recomputed on every run anyway, so the common case writes nothing here."""
    today = today or timezone.now().date()
    oldest_recent = today - timedelta(days=RECENT_DAYS - 1)
    late = sorted({day for day in days if day < oldest_recent})
    if not late:
        return
    ops = connection.ops
    now = ops.adapt_datetimefield_value(timezone.now())
    # Not bulk_create: its DO UPDATE only copies the new row's values, and the version (which
    # the beat checks, see DirtyDay) must count up in the database.
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {DIRTY_DAY} (game_id, day, marked_at, version)
            VALUES {", ".join(["(%s, %s, %s, 1)"] * len(late))}
            ON CONFLICT (game_id, day)
            DO UPDATE SET version = {DIRTY_DAY}.version + 1, marked_at = excluded.marked_at
            """,  # noqa: S608 - the table name and placeholders only
            [value for day in late for value in (game_id, ops.adapt_datefield_value(day), now)],
        )


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date() if timezone.is_aware(moment) else moment.date()
