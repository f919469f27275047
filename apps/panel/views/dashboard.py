"""The landing dashboard per game: today's numbers and charts over a date range, each chart
with its table (the tables are the no-JavaScript view, and every table exports to CSV)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin.views.decorators import staff_member_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone

from apps.accounts.selectors import READ_ROLES, games_for_user
from apps.analytics import selectors as metrics
from apps.panel.access import StaffRequest, readable_game
from apps.panel.forms import DateRangeForm
from apps.panel.selectors import (
    live_server_count,
    offer_names,
    running_event_names,
    typed_number,
)
from apps.panel.views.common import page_context


class NamedOfferSales(metrics.OfferSales):
    name: str  # the shop offer's name, or "" when the shop no longer knows it


@staff_member_required
def home(request: StaffRequest) -> HttpResponse:
    """The first of the user's games, or the one the game picker names (?game=<id>)."""
    chosen = request.GET.get("game", "")
    if chosen.isascii() and chosen.isdigit():
        # Past a bigint's digits, 0: no game (404), as for any id no game has.
        game_id = typed_number(chosen)
        return redirect("panel:dashboard", game_id=readable_game(request, game_id).pk)
    game = games_for_user(request.user, roles=READ_ROLES).order_by("name").first()
    if game is None:
        return render(request, "panel/no_games.html", page_context(request, None, title="Panel"))
    return redirect("panel:dashboard", game_id=game.pk)


@staff_member_required
def dashboard(request: StaffRequest, game_id: int) -> HttpResponse:
    game = readable_game(request, game_id)
    today = timezone.now().date()
    form = DateRangeForm(request.GET or None)
    days = form.day_range(today)
    if not (form.is_bound and form.is_valid()):
        if form.is_bound:
            messages.warning(request, "That date range cannot be shown; here are the last days.")
        form = DateRangeForm(initial={"start": days.start, "end": days.end})
    series = metrics.daily_series(game_id=game.pk, days=days)
    offsets, cohorts = metrics.retention_table(game_id=game.pk, days=days)
    revenue = metrics.revenue_lines(game_id=game.pk, days=days)
    economy = metrics.economy_lines(game_id=game.pk, days=days)
    sales = metrics.top_offers(game_id=game.pk, days=days)
    names = offer_names(game=game, offer_ids=[offer["offer_id"] for offer in sales])
    offers = [NamedOfferSales(**offer, name=names.get(offer["offer_id"], "")) for offer in sales]
    context = page_context(
        request,
        game,
        title=f"{game.name} dashboard",
        gp_section="dashboard",
        form=form,
        days=days,
        query=request.GET.urlencode(),
        today=metrics.today_metrics(game_id=game.pk, today=today),
        today_revenue=metrics.today_revenue(game_id=game.pk, today=today),
        live_servers=live_server_count(game=game),
        running_events=running_event_names(game=game),
        series=series,
        offsets=offsets,
        cohorts=cohorts,
        revenue=revenue,
        revenue_totals=metrics.revenue_totals(revenue, dau_days=sum(row.dau for row in series)),
        economy=metrics.economy_by_reason(economy),
        offers=offers,
        client_events=metrics.client_events(game_id=game.pk, days=days),
        charts=_charts(series, revenue, economy, offers),
    )
    return render(request, "panel/dashboard.html", context)


def _charts(series, revenue, economy, offers) -> dict:
    """Plain data for the chart script (json_script); amounts in major units per currency."""
    labels = [row.day.isoformat() for row in series]
    currencies = sorted({line.currency for line in revenue})
    by_day = {(line.day.isoformat(), line.currency): line.net for line in revenue}
    sources: dict[str, int] = {}
    sinks: dict[str, int] = {}
    for line in economy:
        sources[line.currency] = sources.get(line.currency, 0) + line.source
        sinks[line.currency] = sinks.get(line.currency, 0) + line.sink
    return {
        "activity": {
            "labels": labels,
            "dau": [row.dau for row in series],
            "mau": [row.mau for row in series],
            "new_players": [row.new_players for row in series],
        },
        "revenue": {
            "labels": labels,
            "series": [
                {
                    "currency": currency,
                    "values": [
                        metrics.minor_to_major(by_day.get((day, currency), 0), currency)
                        for day in labels
                    ],
                }
                for currency in currencies
            ],
        },
        "economy": {
            "labels": sorted(sources),
            "sources": [sources[code] for code in sorted(sources)],
            "sinks": [sinks[code] for code in sorted(sources)],
        },
        "offers": {
            "labels": [offer["name"] or f"offer {offer['offer_id']}" for offer in offers],
            "purchases": [offer["purchases"] for offer in offers],
        },
    }
