"""CSV of every dashboard table, for the same game and date range (analysts may export)."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from decimal import Decimal

from django.contrib.admin.views.decorators import staff_member_required
from django.http import Http404, HttpResponse, HttpResponseBadRequest

from apps.analytics import selectors as metrics
from apps.panel.access import StaffRequest, readable_game
from apps.panel.forms import DateRangeForm

# What a spreadsheet may read as a formula's start, after the white space it skips (a space, a
# line feed, a no-break space...), full-width forms included; and a cell starting with a tab or
# a line break at all.
FORMULA_STARTS = ("=", "+", "-", "@", "\uff1d", "\uff0b", "\uff0d", "\uff20")
BREAK_STARTS = ("\t", "\r", "\n")


def _daily(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    yield [
        "day", "dau", "mau", "new_players", "sessions", "sessions_per_user", "paying_users",
        "purchases", "refunds", "matches", "match_players", "event_claims", "battlepass_claims",
    ]  # fmt: skip
    for row in metrics.daily_series(game_id=game_id, days=days):
        per_user = f"{row.sessions / row.dau:.2f}" if row.dau else ""
        yield [
            row.day, row.dau, row.mau, row.new_players, row.sessions, per_user, row.paying_users,
            row.purchases, row.refunds, row.matches, row.match_players, row.event_claims,
            row.battlepass_claims,
        ]  # fmt: skip


def _retention(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    offsets, cohorts = metrics.retention_table(game_id=game_id, days=days)
    yield ["cohort_day", "cohort_size", *(f"day_{k}" for k in offsets)]
    for cohort in cohorts:
        yield [cohort.day, cohort.size, *("" if r is None else r for _, r, _ in cohort.cells)]


def _revenue(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    yield [
        "day", "currency", "purchases", "gross_minor", "refunded_minor", "net_minor",
        "paying_users", "dau", "arpdau_minor", "arppu_minor",
    ]  # fmt: skip
    for line in metrics.revenue_lines(game_id=game_id, days=days):
        yield [
            line.day, line.currency, line.purchases, line.gross, line.refunded, line.net,
            line.paying_users, line.dau, _decimal(line.arpdau), _decimal(line.arppu),
        ]  # fmt: skip


def _economy(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    yield ["day", "currency", "reason", "source", "sink", "entries"]
    for line in metrics.economy_lines(game_id=game_id, days=days):
        yield [line.day, line.currency, line.reason, line.source, line.sink, line.entries]


def _offers(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    yield ["offer_id", "currency", "real_money", "purchases", "amount"]
    for offer in metrics.top_offers(game_id=game_id, days=days, limit=None):
        yield [
            offer["offer_id"], offer["currency"], offer["real_money"], offer["purchases"],
            offer["amount"],
        ]  # fmt: skip


def _client_events(game_id: int, days: metrics.DayRange) -> Iterable[list]:
    yield ["name", "events", "player_days", "days"]
    for event in metrics.client_events(game_id=game_id, days=days, limit=None):
        yield [event["name"], event["events"], event["player_days"], event["days"]]


TABLES = {
    "daily": _daily,
    "retention": _retention,
    "revenue": _revenue,
    "economy": _economy,
    "offers": _offers,
    "client-events": _client_events,
}


@staff_member_required
def export_csv(request: StaffRequest, game_id: int, table: str) -> HttpResponse:
    game = readable_game(request, game_id)
    if table not in TABLES:
        raise Http404("No such table.")
    form = DateRangeForm(request.GET or None)
    if form.is_bound and not form.is_valid():
        # A file of other days than asked (the last 30, as the dashboard falls back to) would be
        # read as the asked ones: a range that cannot be read is refused, nothing is exported.
        return HttpResponseBadRequest(_refusal(form), content_type="text/plain; charset=utf-8")
    days = form.day_range()
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"{game.slug}-{table}-{days.start}-{days.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    for row in TABLES[table](game.pk, days):
        writer.writerow([safe_cell(value) for value in row])
    return response


def _refusal(form: DateRangeForm) -> str:
    reasons = [
        f"{form[name].label}: {error}" if name in form.fields else str(error)
        for name, errors in form.errors.items()
        for error in errors
    ]
    return "Nothing exported: the date range cannot be read. " + " ".join(reasons)


def _decimal(value: float | None) -> Decimal | str:
    # A number, not text: safe_cell guards text starting with "-" (a refund day's negative
    # average would be exported as '-499.00, which a spreadsheet reads as text).
    return "" if value is None else Decimal(f"{value:.2f}")


def safe_cell(value: object) -> object:
    """Spreadsheets run cells that start like a formula: offer ids and reasons come from games."""
    if isinstance(value, str) and (
        value.lstrip().startswith(FORMULA_STARTS) or value.startswith(BREAK_STARTS)
    ):
        return f"'{value}"
    return value
