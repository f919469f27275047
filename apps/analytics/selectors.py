"""Dashboard reads. Only the daily aggregates are read here, never raw events: a dashboard costs
the same for a game with 10 events a day or 10 million."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypedDict

from django.db.models import Count, Sum

from apps.analytics.aggregation import RETENTION_OFFSETS
from apps.analytics.models import (
    ClientEventDay,
    DailyMetrics,
    EconomyDay,
    OfferDay,
    RetentionCell,
    RevenueDay,
)
from gamingpanel.currencies import to_major


@dataclass(frozen=True)
class DayRange:
    start: date
    end: date

    @property
    def days(self) -> list[date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


def daily_series(*, game_id: int, days: DayRange) -> list[DailyMetrics]:
    """One row per day of the range, zero-filled where nothing was aggregated yet."""
    stored = {
        row.day: row
        for row in DailyMetrics.objects.filter(game_id=game_id, day__range=(days.start, days.end))
    }
    return [stored.get(day) or DailyMetrics(game_id=game_id, day=day) for day in days.days]


@dataclass
class Cohort:
    day: date
    size: int
    cells: list[tuple[int, int | None, float | None]] = field(default_factory=list)
    # (offset, retained, share 0..1); None when that day has not come yet


def retention_table(*, game_id: int, days: DayRange) -> tuple[list[int], list[Cohort]]:
    offsets = [k for k in RETENTION_OFFSETS if k > 0]
    cells: dict[date, dict[int, int]] = defaultdict(dict)
    rows = RetentionCell.objects.filter(
        game_id=game_id, cohort_day__range=(days.start, days.end)
    ).values_list("cohort_day", "day_offset", "retained")
    for cohort_day, offset, retained in rows:
        cells[cohort_day][offset] = retained
    cohorts = []
    for cohort_day in sorted(cells, reverse=True):
        size = cells[cohort_day].get(0, 0)
        cohort = Cohort(day=cohort_day, size=size)
        for k in offsets:
            kept = cells[cohort_day].get(k)
            share = kept / size if kept is not None and size else None
            cohort.cells.append((k, kept, share))
        cohorts.append(cohort)
    return offsets, cohorts


@dataclass(frozen=True)
class RevenueLine:
    day: date
    currency: str
    purchases: int
    gross: int
    refunded: int
    paying_users: int
    dau: int

    @property
    def net(self) -> int:
        return self.gross - self.refunded

    @property
    def arpdau(self) -> float | None:
        return self.net / self.dau if self.dau else None

    @property
    def arppu(self) -> float | None:
        return self.net / self.paying_users if self.paying_users else None


def revenue_lines(*, game_id: int, days: DayRange) -> list[RevenueLine]:
    """Real-money revenue per day and ISO currency, in minor units, with that day's DAU."""
    dau = dict(
        DailyMetrics.objects.filter(game_id=game_id, day__range=(days.start, days.end)).values_list(
            "day", "dau"
        )
    )
    rows = RevenueDay.objects.filter(
        game_id=game_id, real_money=True, day__range=(days.start, days.end)
    ).order_by("day", "currency")
    return [
        RevenueLine(
            day=row.day,
            currency=row.currency,
            purchases=row.purchases,
            gross=row.gross,
            refunded=row.refunded,
            paying_users=row.paying_users,
            dau=dau.get(row.day, 0),
        )
        for row in rows
    ]


def revenue_totals(lines: list[RevenueLine], *, dau_days: int) -> list[dict[str, object]]:
    """Per currency over the range: net revenue, ARPDAU (net / the range's summed DAU) and
    ARPPU (net / the summed daily paying users, i.e. per payer-day)."""
    totals: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        total = totals[line.currency]
        total["net"] += line.net
        total["purchases"] += line.purchases
        total["payer_days"] += line.paying_users
    return [
        {
            "currency": currency,
            **total,
            "arpdau": total["net"] / dau_days if dau_days else None,
            "arppu": total["net"] / total["payer_days"] if total["payer_days"] else None,
        }
        for currency, total in sorted(totals.items())
    ]


def economy_lines(*, game_id: int, days: DayRange) -> list[EconomyDay]:
    return list(
        EconomyDay.objects.filter(game_id=game_id, day__range=(days.start, days.end)).order_by(
            "day", "currency", "reason"
        )
    )


def economy_by_reason(lines: list[EconomyDay]) -> list[dict[str, object]]:
    totals: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for line in lines:
        total = totals[(line.currency, line.reason)]
        total["source"] += line.source
        total["sink"] += line.sink
        total["entries"] += line.entries
    return [
        {"currency": currency, "reason": reason, **total}
        for (currency, reason), total in sorted(totals.items())
    ]


class OfferSales(TypedDict):
    offer_id: str
    currency: str
    real_money: bool  # amount in minor units of an ISO currency; else a virtual currency's units
    purchases: int
    amount: int


def top_offers(*, game_id: int, days: DayRange, limit: int | None = 10) -> list[OfferSales]:
    """The offers sold over the range, the most bought first; `limit` None: every one."""
    rows = (
        OfferDay.objects.filter(game_id=game_id, day__range=(days.start, days.end))
        .values("offer_id", "currency", "real_money")
        .annotate(purchases=Sum("purchases"), amount=Sum("amount"))
        .order_by("-purchases", "-amount", "offer_id")[:limit]
    )
    return [
        OfferSales(
            offer_id=row["offer_id"],
            currency=row["currency"],
            real_money=row["real_money"],
            purchases=row["purchases"],
            amount=row["amount"],
        )
        for row in rows
    ]


class ClientEventTotals(TypedDict):
    name: str
    events: int
    player_days: int  # players who sent it, counted once per day
    days: int  # days it was sent on


def client_events(
    *, game_id: int, days: DayRange, limit: int | None = 20
) -> list[ClientEventTotals]:
    """The game's own events over the range, the most sent first; `limit` None: every one."""
    rows = (
        ClientEventDay.objects.filter(game_id=game_id, day__range=(days.start, days.end))
        .values("name")
        .annotate(events=Sum("events"), player_days=Sum("players"), days=Count("day"))
        .order_by("-events", "name")[:limit]
    )
    return [
        ClientEventTotals(
            name=row["name"],
            events=row["events"],
            player_days=row["player_days"],
            days=row["days"],
        )
        for row in rows
    ]


def today_metrics(*, game_id: int, today: date) -> DailyMetrics:
    return DailyMetrics.objects.filter(game_id=game_id, day=today).first() or DailyMetrics(
        game_id=game_id, day=today
    )


def today_revenue(*, game_id: int, today: date) -> list[RevenueDay]:
    return list(
        RevenueDay.objects.filter(game_id=game_id, day=today, real_money=True).order_by("currency")
    )


def minor_to_major(amount: float, currency: str) -> float:
    """Revenue as a chart's y coordinate, in the currency's own units (ISO 4217 decimals). Only
    for drawing: sums and stored amounts stay integers in minor units, and the panel's money
    text is formatted from the exact Decimal (templatetags `money`)."""
    return float(to_major(amount, currency))
