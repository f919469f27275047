"""A leaderboard page names the next one in headers as every cursor-paged list does (docs/guide/
index.md, "Pagination"): `Link: <url>; rel="next"` and `X-Next-Cursor` when, and only when, the
body's `next` is not null; the body stays as it was."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from apps.devdocs.postman import openapi_schema
from tests.leaderboards.helpers import scores

pytestmark = pytest.mark.django_db

NEXT = '>; rel="next"'


def next_url(response) -> str:
    link = response.headers["Link"]
    assert link.startswith("<") and link.endswith(NEXT)
    return link[1 : -len(NEXT)]


def query_of(url: str) -> list[tuple[str, str]]:
    return parse_qsl(urlsplit(url).query, keep_blank_values=True)


@pytest.fixture
def seven(board, make_players):
    players = make_players(7)
    scores(board, [(p, 10 * n) for n, p in enumerate(players)])
    return players


def closed_board_path(board) -> str:
    from apps.leaderboards.services.periods import close_period, open_period

    close_period(period_id=open_period(board=board).pk)
    return "/api/v1/leaderboards/high/periods/1"


@pytest.mark.parametrize("closed", [False, True], ids=["top", "standings"])
def test_the_link_names_the_page_the_body_cursor_names(player_client, board, seven, closed):
    path = closed_board_path(board) if closed else "/api/v1/leaderboards/high"
    first = player_client.get(f"{path}?limit=3")
    body = first.json()

    assert body["next"] is not None
    assert first.headers["X-Next-Cursor"] == body["next"]
    url = next_url(first)
    assert url.startswith(f"http://testserver{path}?")  # absolute, as the shop's
    assert query_of(url) == [("cursor", body["next"]), ("limit", "3")]
    by_link = player_client.get(url)
    by_body = player_client.get(f"{path}?limit=3&cursor={body['next']}")
    assert by_link.status_code == 200
    assert by_link.json() == by_body.json()
    assert [e["rank"] for e in by_link.json()["results"]] == [4, 5, 6]
    assert by_link.headers["Link"] == by_body.headers["Link"]


@pytest.mark.parametrize("closed", [False, True], ids=["top", "standings"])
def test_following_links_walks_every_entry_once_and_the_last_page_has_no_headers(
    player_client, board, seven, closed
):
    path = closed_board_path(board) if closed else "/api/v1/leaderboards/high"
    seen, url, last = [], f"{path}?limit=3", None
    while url:
        last = player_client.get(url)
        seen += [e["rank"] for e in last.json()["results"]]
        url = next_url(last) if "Link" in last.headers else ""

    assert seen == [1, 2, 3, 4, 5, 6, 7]
    assert last.json()["next"] is None
    assert "X-Next-Cursor" not in last.headers
    exact = player_client.get(f"{path}?limit=7")  # a full last page names no next one
    assert exact.json()["next"] is None
    assert "Link" not in exact.headers and "X-Next-Cursor" not in exact.headers


def test_an_empty_board_has_no_next_headers(player_client, board):
    response = player_client.get("/api/v1/leaderboards/high")

    assert response.json()["next"] is None
    assert "Link" not in response.headers and "X-Next-Cursor" not in response.headers


def test_the_link_keeps_the_other_query_parameters_and_replaces_the_cursor(
    player_client, board, seven
):
    first = player_client.get("/api/v1/leaderboards/high?limit=2").json()
    second = player_client.get(
        f"/api/v1/leaderboards/high?tag=a+b&limit=2&cursor={first['next']}&tag=c%26d"
    )
    cursor = second.json()["next"]

    assert cursor not in (None, first["next"])
    assert second.headers["X-Next-Cursor"] == cursor
    cursor_first, *others = query_of(next_url(second))
    assert cursor_first == ("cursor", cursor)  # once: the one sent is replaced
    assert sorted(others) == [("limit", "2"), ("tag", "a b"), ("tag", "c&d")]
    third = player_client.get(next_url(second)).json()
    assert [e["rank"] for e in third["results"]] == [5, 6]


def test_without_limit_the_link_leaves_it_out_and_the_default_is_kept(
    player_client, board, make_players
):
    players = make_players(12)
    scores(board, [(p, n) for n, p in enumerate(players)])

    first = player_client.get("/api/v1/leaderboards/high")
    cursor = first.json()["next"]

    assert query_of(next_url(first)) == [("cursor", cursor)]
    second = player_client.get(next_url(first))
    assert [e["rank"] for e in second.json()["results"]] == [11, 12]
    assert "Link" not in second.headers


def test_the_body_keeps_its_shape(player_client, board, seven):
    body = player_client.get("/api/v1/leaderboards/high?limit=3").json()

    assert set(body) == {"board", "period", "results", "next"}


def test_the_shared_helper_writes_the_shops_headers():
    from gamingpanel.paging import set_next_page

    request = RequestFactory().get("/api/v1/shop/purchases", {"before_id": "9"})
    response = HttpResponse()

    set_next_page(response, request, "41", {"limit": "2"})

    assert (
        response["Link"]
        == '<http://testserver/api/v1/shop/purchases?cursor=41&limit=2>; rel="next"'
    )
    assert response["X-Next-Cursor"] == "41"


@pytest.mark.parametrize(
    "path", ["/api/v1/leaderboards/{slug}", "/api/v1/leaderboards/{slug}/periods/{number}"]
)
def test_the_schema_declares_the_next_page_headers_as_the_shops(path):
    paths = openapi_schema()["paths"]
    shop = paths["/api/v1/shop/purchases"]["get"]["responses"]["200"]["headers"]

    headers = paths[path]["get"]["responses"]["200"]["headers"]

    assert set(headers) == {"Link", "X-Next-Cursor"}
    assert {name: h["schema"] for name, h in headers.items()} == {
        name: h["schema"] for name, h in shop.items()
    }
