"""Every cloud-save answer is the caller's own: `Cache-Control: private, no-cache` and `Vary:
Authorization, X-Server-Key` on each of them, batch writes, deletes and problems included; an
ETag on a single document's answers only."""

from __future__ import annotations

import pytest

from apps.cloudsave.models import SaveKey
from tests.cloudsave.conftest import URL, create, put

pytestmark = pytest.mark.django_db


def assert_callers_own(name: str, response) -> None:
    assert response.get("Cache-Control") == "private, no-cache", (name, response.status_code)
    vary = {part.strip().lower() for part in response.get("Vary", "").split(",")}
    assert {"authorization", "x-server-key"} <= vary, (name, response.status_code, vary)


def test_a_players_batch_write_is_the_callers_own_as_a_put_is(alice):
    batch = alice.post(URL, {"writes": [{"key": "a", "value": 1}]}, format="json")
    keyed = {"HTTP_IDEMPOTENCY_KEY": "batch-1"}
    writes = {"writes": [{"key": "b", "value": 2}]}
    first = alice.post(URL, writes, format="json", **keyed)
    replayed = alice.post(URL, writes, format="json", **keyed)

    assert [r.status_code for r in (batch, first, replayed)] == [200, 200, 200]
    assert replayed.json() == first.json()
    for name, response in (("batch", batch), ("keyed", first), ("replayed", replayed)):
        assert_callers_own(name, response)
        # Several documents: no one version to name.
        assert "ETag" not in response


def test_a_servers_batch_write_is_the_callers_own(server_client, player):
    response = server_client.post(
        f"/api/v1/saves/players/{player.pk}",
        {"writes": [{"key": "a", "value": 1}]},
        format="json",
    )

    assert response.status_code == 200
    assert_callers_own("server batch", response)


def test_every_other_answer_says_the_same(alice, bob, player, server_client, game):
    SaveKey.objects.create(game=game, key="card", public=True)
    server = f"/api/v1/saves/players/{player.pk}"
    answers = {
        "create": create(alice, "slot1", {"a": 1}),
        "put": put(alice, "slot1", {"a": 2}, HTTP_IF_MATCH='"1"'),
        "get": alice.get(f"{URL}/slot1"),
        "get 304": alice.get(f"{URL}/slot1", HTTP_IF_NONE_MATCH='"2"'),
        "list": alice.get(URL),
        "stale put 412 (with current)": put(alice, "slot1", {"a": 3}, HTTP_IF_MATCH='"1"'),
        "stale batch 412 (with conflicts)": alice.post(
            URL, {"writes": [{"key": "slot1", "value": 1}]}, format="json"
        ),
        "get 404": alice.get(f"{URL}/nothing"),
        "delete 204": alice.delete(f"{URL}/slot1", HTTP_IF_MATCH='"2"'),
        "card": create(alice, "card", {"t": 1}),
        "public list": bob.get(f"/api/v1/saves/public/{player.pk}"),
        "public one": bob.get(f"/api/v1/saves/public/{player.pk}/card"),
        "server list": server_client.get(server),
        "server one": server_client.get(f"{server}/card"),
        "server put": server_client.put(
            f"{server}/card", {"value": 2}, format="json", HTTP_IF_MATCH='"1"'
        ),
        "server delete 204": server_client.delete(f"{server}/card", HTTP_IF_MATCH='"2"'),
    }

    statuses = {name: response.status_code for name, response in answers.items()}
    assert statuses == {
        "create": 201,
        "put": 200,
        "get": 200,
        "get 304": 304,
        "list": 200,
        "stale put 412 (with current)": 412,
        "stale batch 412 (with conflicts)": 412,
        "get 404": 404,
        "delete 204": 204,
        "card": 201,
        "public list": 200,
        "public one": 200,
        "server list": 200,
        "server one": 200,
        "server put": 200,
        "server delete 204": 204,
    }
    for name, response in answers.items():
        assert_callers_own(name, response)
    # An ETag names one document's version: its reads and writes carry it, nothing else does.
    with_etag = {name for name, response in answers.items() if "ETag" in response}
    assert with_etag == {
        "create",
        "put",
        "get",
        "get 304",
        "card",
        "public one",
        "server one",
        "server put",
    }
