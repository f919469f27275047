"""Two server keys registering one new server id at once, on PostgreSQL with real threads (each
on its own connection): exactly one key holds the id, the other gets 409 server_id_taken."""

from concurrent.futures import ThreadPoolExecutor
from threading import Barrier

import pytest
from django.db import connection, transaction
from rest_framework.test import APIClient

from apps.accounts.models import ServerKey
from apps.accounts.services import create_server_key
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.services.registry import heartbeat
from tests.conftest import in_thread
from tests.multiplayer.test_registry import HEARTBEAT

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def body(server_id: str, address: str) -> dict:
    return {
        "server_id": server_id,
        "region": "eu-west",
        "address": address,
        "port": 7777,
        "capacity": 16,
        "players": 0,
    }


def beat_as(raw_key: str, server_id: str, address: str) -> tuple[int, str]:
    client = APIClient()
    client.credentials(HTTP_X_SERVER_KEY=raw_key)
    response = client.post(HEARTBEAT, body(server_id, address), format="json")
    return response.status_code, response.json().get("code", "")


@pytest.fixture
def two_keys(game) -> dict[str, str]:
    """Address each key's servers announce → that key, raw."""
    return {
        "10.0.0.1": create_server_key(game=game, name="fleet a").raw_key,
        "10.0.0.2": create_server_key(game=game, name="fleet b").raw_key,
    }


def test_a_second_key_registering_a_new_id_while_the_first_commits_gets_409(game, two_keys):
    (address_a, key_a), (address_b, key_b) = two_keys.items()
    fleet_a = ServerKey.objects.get(name="fleet a")

    with transaction.atomic():
        # Fleet a's first heartbeat of "eu-1", not committed yet: no row another
        # transaction can lock.
        heartbeat(game=game, server_key=fleet_a, **body("eu-1", address_a))
        b = in_thread(lambda: beat_as(key_b, "eu-1", address_b))
        with pytest.raises(TimeoutError):
            b.result(timeout=0.5)  # fleet b waits for fleet a's registration

    assert b.result(timeout=10) == (409, "server_id_taken")
    server = RegisteredServer.objects.get(server_id="eu-1")
    assert (server.server_key_id, server.address) == (fleet_a.pk, address_a)


def test_two_keys_beating_one_new_id_at_the_same_instant_one_holds_it(two_keys):
    rounds = 8
    start = Barrier(2)

    def beat_at_once(job: tuple[str, str, str]) -> tuple[int, str]:
        address, raw_key, server_id = job
        try:
            start.wait()
            return beat_as(raw_key, server_id, address)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        for n in range(rounds):
            server_id = f"race-{n}"
            jobs = [(address, raw_key, server_id) for address, raw_key in two_keys.items()]
            answers = dict(zip(two_keys, pool.map(beat_at_once, jobs), strict=True))

            assert sorted(answers.values()) == [(200, ""), (409, "server_id_taken")], n
            (winner,) = [address for address, (status, _) in answers.items() if status == 200]
            server = RegisteredServer.objects.select_related("server_key").get(server_id=server_id)
            holder = {"10.0.0.1": "fleet a", "10.0.0.2": "fleet b"}[winner]
            assert (server.address, server.server_key.name) == (winner, holder), n


# --- The cap on live servers (MULTIPLAYER_MAX_LIVE_SERVERS) ------------------------------------


def test_servers_joining_at_once_never_pass_the_cap(game, settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 3
    raw_key = create_server_key(game=game, name="fleet").raw_key
    joining = 8
    start = Barrier(joining)

    def join(n: int) -> tuple[int, str]:
        try:
            start.wait()
            return beat_as(raw_key, f"new-{n}", "10.0.0.1")
        finally:
            connection.close()

    with ThreadPoolExecutor(joining) as pool:
        answers = list(pool.map(join, range(joining)))

    assert sorted(answers) == [(200, "")] * 3 + [(409, "too_many_servers")] * 5
    assert RegisteredServer.objects.count() == 3


def test_a_server_joining_waits_for_the_one_before_it_then_counts_it(game, settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 1
    issued = create_server_key(game=game, name="fleet")
    fleet = issued.server_key

    with transaction.atomic():
        heartbeat(game=game, server_key=fleet, **body("eu-1", "10.0.0.1"))  # not committed yet
        second = in_thread(lambda: beat_as(issued.raw_key, "eu-2", "10.0.0.1"))
        with pytest.raises(TimeoutError):
            second.result(timeout=0.5)  # waits for eu-1's join to commit

    assert second.result(timeout=10) == (409, "too_many_servers")
    assert list(RegisteredServer.objects.values_list("server_id", flat=True)) == ["eu-1"]


def test_a_live_servers_beat_neither_waits_for_a_join_nor_counts(game, settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 5
    issued = create_server_key(game=game, name="fleet")
    fleet = issued.server_key
    heartbeat(game=game, server_key=fleet, **body("eu-1", "10.0.0.1"))

    with transaction.atomic():
        heartbeat(game=game, server_key=fleet, **body("eu-2", "10.0.0.1"))  # holds the join
        refresh = in_thread(lambda: beat_as(issued.raw_key, "eu-1", "10.0.0.1"))
        assert refresh.result(timeout=5) == (200, "")
