"""Panel answers are kept by no cache, CSV cells a spreadsheet would run are defused however they
are dressed, a sign-in without a safe next page lands on the panel, and an operator's sign-in
lasts PANEL_SESSION_HOURS."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from django.conf import settings
from django.contrib.sessions.backends.db import SessionStore
from django.test import Client

from apps.accounts.models import Player
from apps.panel.views.exports import safe_cell
from tests.panel.conftest import PASSWORD

pytestmark = pytest.mark.django_db


def assert_never_cached(response) -> None:
    directives = {part.strip() for part in response["Cache-Control"].split(",")}
    assert {"no-store", "private"} <= directives, response["Cache-Control"]


def test_panel_pages_and_exports_are_never_cached(operator_client, game, other_game, player):
    page = operator_client.get(f"/panel/games/{game.pk}/")
    assert page.status_code == 200
    assert_never_cached(page)
    export = operator_client.get(f"/panel/games/{game.pk}/export/daily.csv")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    assert_never_cached(export)
    records = operator_client.get(f"/panel/games/{game.pk}/records/players.csv")
    assert records.status_code == 200
    assert_never_cached(records)
    assert_never_cached(operator_client.get(f"/panel/games/{game.pk}/players/{player.pk}/"))
    assert_never_cached(operator_client.get("/panel/"))
    assert_never_cached(operator_client.get(f"/panel/games/{other_game.pk}/"))  # a 404 too
    assert_never_cached(Client().get(f"/panel/games/{game.pk}/"))  # the redirect to sign in


def test_answers_outside_the_panel_are_left_alone(operator_client):
    health = Client().get("/api/v1/health")
    assert "no-store" not in health.get("Cache-Control", "")


DANGEROUS = [
    "=1+1",
    " =1+1",
    "  +1",
    "\n=1+1",
    "\r=1+1",
    "\t=1+1",
    "\u00a0=1+1",  # no-break space
    "\u3000@SUM(A1)",  # ideographic space
    "\uff1d1+1",  # full-width =
    "\uff0b1",  # full-width +
    "\uff0d1",  # full-width -
    "\uff20SUM(A1)",  # full-width @
    " \uff1d1",
    "-5",
    "@SUM(A1)",
    "\nplain",  # a line break first, whatever follows
]


@pytest.mark.parametrize("value", DANGEROUS)
def test_cells_that_start_like_a_formula_are_defused(value):
    assert safe_cell(value) == f"'{value}"


@pytest.mark.parametrize("value", ["alice", "a=b", "x-1", "1+1", "", " alice", "\u00a0bob", 7])
def test_other_cells_are_left_as_they_are(value):
    assert safe_cell(value) == value


def test_numbers_stay_numbers():
    assert safe_cell(-5) == -5
    assert safe_cell(Decimal("-4.99")) == Decimal("-4.99")


def test_the_players_export_defuses_every_form(analyst_client, game):
    for name in DANGEROUS:
        Player.objects.create(game=game, display_name=name)
    response = analyst_client.get(f"/panel/games/{game.pk}/records/players.csv")
    body = b"".join(response.streaming_content).decode()
    names = [row[1] for row in csv.reader(io.StringIO(body))][1:]
    assert sorted(names) == sorted(f"'{name}" for name in DANGEROUS)


@pytest.mark.parametrize("next_page", [None, "https://evil.example/", "//evil.example/"])
def test_a_sign_in_without_a_safe_next_page_lands_on_the_panel(operator, next_page):
    data = {"username": operator.username, "password": PASSWORD}
    if next_page is not None:
        data["next"] = next_page
    response = Client().post("/admin/login/", data)
    assert response.status_code == 302
    assert response["Location"] == "/panel/"


def test_an_operator_sign_in_lasts_panel_session_hours(operator):
    assert settings.PANEL_SESSION_HOURS == 12
    assert settings.SESSION_COOKIE_AGE == 12 * 3600
    client = Client()
    response = client.post(
        "/admin/login/?next=/panel/", {"username": operator.username, "password": PASSWORD}
    )
    assert response.status_code == 302
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert int(cookie["max-age"]) == 12 * 3600
    session = SessionStore(session_key=cookie.value)
    assert session.get_expiry_age() == 12 * 3600
