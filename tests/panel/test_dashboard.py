from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, time, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import Player
from apps.analytics.aggregation import aggregate_days
from apps.analytics.models import DailyMetrics, RawEvent
from apps.analytics.services import record_server_event
from apps.events.models import Event
from apps.multiplayer.models import RegisteredServer
from tests.panel.conftest import client_for

ONE_DAY = timedelta(days=1)


@pytest.fixture
def today() -> date:
    """The UTC day as the test starts, never as the module was collected: a run collected
    before midnight and run after it would otherwise expect the day before the dashboard's."""
    return timezone.now().date()


def url(game, suffix: str = "") -> str:
    return f"/panel/games/{game.pk}/{suffix}"


@pytest.fixture
def activity(game, player, today):
    """Two days of facts: alice logs in today and yesterday, buys for 4.99 USD today."""
    for days_ago in (0, 1):
        when = datetime.combine(today - timedelta(days=days_ago), time(8), tzinfo=UTC)
        record_server_event(
            game_id=game.pk, player_id=player.pk, name="session_start", occurred_at=when
        )
    record_server_event(
        game_id=game.pk,
        player_id=player.pk,
        name="purchase_completed",
        properties={"offer_id": "7", "currency": "USD", "amount": 499, "real_money": True},
    )
    for name in ("level_complete", "level_complete", "tutorial_step"):  # the game's own events
        RawEvent.objects.create(
            game=game,
            player=player,
            source=RawEvent.Source.CLIENT,
            name=name,
            occurred_at=timezone.now(),
            day=today,
        )
    aggregate_days(game_id=game.pk, start=today - timedelta(days=1), end=today)


def test_anonymous_is_sent_to_the_admin_login(game):
    response = Client().get(url(game))

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=")


def test_root_and_panel_home_lead_to_the_first_game_dashboard(operator_client, game):
    assert Client().get("/")["Location"] == "/panel/"
    assert operator_client.get("/panel/")["Location"] == url(game)
    assert operator_client.get(f"/panel/?game={game.pk}")["Location"] == url(game)


def test_dashboard_shows_today_and_the_charts_data(operator_client, game, activity):
    response = operator_client.get(url(game))

    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="kpi-dau">1<' in page
    assert "4.99 USD" in page
    for chart in ("chart-activity", "chart-revenue", "chart-economy", "chart-offers"):
        assert f'id="{chart}"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    assert response.context["client_events"] == [
        {"name": "level_complete", "events": 2, "player_days": 1, "days": 1},
        {"name": "tutorial_step", "events": 1, "player_days": 1, "days": 1},
    ]
    assert "<td>level_complete</td>" in page
    charts = response.context["charts"]
    assert charts["activity"]["dau"][-2:] == [1, 1]
    assert charts["revenue"]["series"] == [{"currency": "USD", "values": [0] * 29 + [4.99]}]


def test_dashboard_reads_only_aggregates(
    operator_client, game, activity, django_assert_max_num_queries
):
    with django_assert_max_num_queries(25):
        assert operator_client.get(url(game)).status_code == 200


def test_a_bad_date_range_falls_back_to_the_default_not_a_500(operator_client, game, activity):
    for query in ("start=2026-13-01", "start=2026-02-02&end=2026-01-01", "start=2020-01-01"):
        response = operator_client.get(url(game) + "?" + query)
        assert response.status_code == 200
        assert len(response.context["series"]) == 30


def test_a_chosen_range_is_used(operator_client, game, activity, today):
    start = today - timedelta(days=6)
    response = operator_client.get(url(game) + f"?start={start}&end={today}")

    assert [row.day for row in response.context["series"]][0] == start
    assert len(response.context["series"]) == 7


def test_game_picker_lists_only_the_users_games(operator_client, game, other_game):
    page = operator_client.get(url(game)).content.decode()

    assert f'<option value="{game.pk}"' in page
    assert f'<option value="{other_game.pk}"' not in page


def test_another_games_pages_are_404_not_403(operator_client, other_game, other_player):
    for path in (
        url(other_game),
        url(other_game, "players/"),
        url(other_game, f"players/{other_player.pk}/"),
        url(other_game, "export/daily.csv"),
        f"/panel/?game={other_game.pk}",
    ):
        assert operator_client.get(path).status_code == 404, path


def test_csv_export_of_the_daily_table(analyst_client, game, activity, today):
    response = analyst_client.get(url(game, "export/daily.csv") + f"?start={today}&end={today}")

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert f'filename="alpha-daily-{today}-{today}.csv"' in response["Content-Disposition"]
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert len(rows) == 1
    assert (rows[0]["day"], rows[0]["dau"], rows[0]["purchases"], rows[0]["paying_users"]) == (
        str(today),
        "1",
        "1",
        "1",
    )


@pytest.mark.parametrize(
    "table", ["daily", "retention", "revenue", "economy", "offers", "client-events"]
)
def test_every_table_exports(analyst_client, game, activity, table):
    response = analyst_client.get(url(game, f"export/{table}.csv"))

    assert response.status_code == 200
    assert response.content.decode().splitlines()[0]


def test_revenue_csv_has_minor_units_and_arpdau(analyst_client, game, activity):
    body = analyst_client.get(url(game, "export/revenue.csv")).content.decode()

    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["currency"], r["net_minor"], r["dau"], r["arpdau_minor"]) for r in rows] == [
        ("USD", "499", "1", "499.00")
    ]


def test_a_refund_days_negative_averages_are_exported_as_numbers(
    analyst_client, game, player, today
):
    record_server_event(game_id=game.pk, player_id=player.pk, name="session_start")
    record_server_event(
        game_id=game.pk,
        player_id=player.pk,
        name="purchase_refunded",
        properties={"offer_id": "7", "currency": "USD", "amount": 499, "real_money": True},
    )
    aggregate_days(game_id=game.pk, start=today, end=today)

    body = analyst_client.get(url(game, "export/revenue.csv")).content.decode()

    (row,) = csv.DictReader(io.StringIO(body))
    assert (row["net_minor"], row["arpdau_minor"]) == ("-499", "-499.00")


def test_the_client_events_csv_holds_every_name(analyst_client, game, player, today):
    names = [f"step_{n:04d}" for n in range(1005)]
    RawEvent.objects.bulk_create(
        RawEvent(
            game=game,
            player=player,
            source=RawEvent.Source.CLIENT,
            name=name,
            occurred_at=timezone.now(),
            day=today,
        )
        for name in names
    )
    aggregate_days(game_id=game.pk, start=today, end=today)

    body = analyst_client.get(url(game, "export/client-events.csv")).content.decode()

    assert sorted(row["name"] for row in csv.DictReader(io.StringIO(body))) == names


def test_client_events_csv(analyst_client, game, activity):
    body = analyst_client.get(url(game, "export/client-events.csv")).content.decode()

    rows = list(csv.DictReader(io.StringIO(body)))
    assert [(r["name"], r["events"], r["player_days"]) for r in rows] == [
        ("level_complete", "2", "1"),
        ("tutorial_step", "1", "1"),
    ]


def test_a_virtual_currency_with_an_upper_case_code_is_not_shown_as_cents(
    operator_client, game, player, today
):
    record_server_event(
        game_id=game.pk,
        player_id=player.pk,
        name="purchase_completed",
        properties={"offer_id": "9", "currency": "GEM", "amount": 120, "real_money": False},
    )
    aggregate_days(game_id=game.pk, start=today, end=today)

    page = operator_client.get(url(game)).content.decode()

    assert "<td>120 GEM</td>" in page and "1.20 GEM" not in page


def test_unknown_export_is_404(analyst_client, game):
    assert analyst_client.get(url(game, "export/passwords.csv")).status_code == 404


def test_csv_cells_that_look_like_formulas_are_defused(analyst_client, game, player, today):
    record_server_event(
        game_id=game.pk,
        player_id=player.pk,
        name="purchase_completed",
        properties={"offer_id": "=HYPERLINK(1)", "currency": "USD", "amount": 1},
    )
    aggregate_days(game_id=game.pk, start=today, end=today)

    body = analyst_client.get(url(game, "export/offers.csv")).content.decode()

    assert "'=HYPERLINK(1)" in body


def test_staff_without_a_game_sees_an_empty_panel(db):
    from tests.panel.conftest import make_user

    user = make_user("nobody", None, None)
    user.is_staff = True
    user.save()

    response = client_for(user).get("/panel/")

    assert response.status_code == 200
    assert b"You have no game yet" in response.content
    assert not DailyMetrics.objects.exists()


def test_admin_pages_carry_the_panel_navigation(owner_client, game):
    page = owner_client.get("/admin/").content.decode()

    assert 'class="gp-nav"' in page
    assert "/panel/players/" in page


def test_dashboard_without_data_renders_zeros(owner_client, game):
    response = owner_client.get(url(game))

    assert response.status_code == 200
    assert "No real-money purchases in this range." in response.content.decode()
    assert not Player.objects.exists()


def test_dashboard_counts_live_servers_and_names_running_events(operator_client, game, other_game):
    now = timezone.now()
    Event.objects.create(game=game, name="Launch week", starts_at=now, ends_at=now + ONE_DAY)
    Event.objects.create(game=game, name="Over", starts_at=now - 2 * ONE_DAY, ends_at=now)
    Event.objects.create(game=other_game, name="Elsewhere", starts_at=now, ends_at=now + ONE_DAY)
    server = {"region": "eu", "address": "10.0.0.1", "port": 7777, "capacity": 8}
    for name, beat in [("fresh", now), ("silent", now - timedelta(hours=1))]:
        RegisteredServer.objects.create(
            game=game, server_id=name, registered_at=beat, last_heartbeat_at=beat, **server
        )

    response = operator_client.get(url(game))

    assert response.status_code == 200
    assert response.context["live_servers"] == 1
    assert response.context["running_events"] == ["Launch week"]
