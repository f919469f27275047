"""The live-server cap stays exact when a live server's beat arrives just as it goes stale while
another server joins (PostgreSQL, real threads, each on its own connection)."""

import contextlib
import time
from datetime import timedelta
from threading import Event
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from apps.accounts.services import create_server_key
from apps.multiplayer.models import RegisteredServer
from apps.multiplayer.selectors import fresh_since
from apps.multiplayer.services import registry
from tests.conftest import in_thread
from tests.multiplayer.test_registry_races import beat_as, body

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

MARGIN = 0.5  # seconds the live server has left when its beat starts


def test_a_server_joining_as_a_live_one_goes_stale_mid_beat_counts_it(game, settings):
    settings.MULTIPLAYER_MAX_LIVE_SERVERS = 1
    issued = create_server_key(game=game, name="fleet")
    fleet = issued.server_key
    registry.heartbeat(game=game, server_key=fleet, **body("eu-1", "10.0.0.1"))
    ttl = timedelta(seconds=django_settings.SERVER_HEARTBEAT_TTL_SECONDS)
    stale_at = timezone.now() + timedelta(seconds=MARGIN)
    RegisteredServer.objects.filter(server_id="eu-1").update(last_heartbeat_at=stale_at - ttl)

    # eu-1's beat is held after deciding how it goes, before it writes and commits.
    decided, go_on = Event(), Event()
    check_key = registry._refuse_another_keys_live_server

    def held_after_deciding(held, *, server_id, server_key):
        if server_id == "eu-1":
            decided.set()
            assert go_on.wait(10)
        return check_key(held, server_id=server_id, server_key=server_key)

    with mock.patch.object(registry, "_refuse_another_keys_live_server", held_after_deciding):
        refresh = in_thread(
            lambda: registry.heartbeat(game=game, server_key=fleet, **body("eu-1", "10.0.0.1"))
        )
        assert decided.wait(5)
        time.sleep(max(0.0, (stale_at - timezone.now()).total_seconds()) + 0.2)
        assert not RegisteredServer.objects.filter(last_heartbeat_at__gte=fresh_since()).exists()

        joining = in_thread(lambda: beat_as(issued.raw_key, "eu-2", "10.0.0.1"))
        with contextlib.suppress(TimeoutError):
            joining.result(timeout=1)  # it waits for eu-1's beat to commit
        go_on.set()
        refresh.result(timeout=10)
        answer = joining.result(timeout=10)

    live = RegisteredServer.objects.filter(last_heartbeat_at__gte=fresh_since())
    assert answer == (409, "too_many_servers")
    assert list(live.values_list("server_id", flat=True)) == ["eu-1"]
