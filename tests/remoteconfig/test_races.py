"""Config writes of one game at once, on PostgreSQL with real threads: each waits for the game's
config lock, so a publish reads the draft as the write before it left it, whole, and two saves
of one new key both apply."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction

from apps.accounts.models import Game
from apps.audit.models import AuditLogEntry
from apps.remoteconfig.models import ConfigKey, ConfigRelease
from apps.remoteconfig.services import _lock_config, add_override, publish, rollback, set_key

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_a_publish_waits_for_a_rollback_and_publishes_what_it_left(game):
    set_key(game=game, actor=None, key="speed", value=1)
    publish(game=game, actor=None)  # v1: speed 1
    set_key(game=game, actor=None, key="speed", value=2)
    add_override(game=game, actor=None, key="speed", value=3, platforms=["ios"])
    publish(game=game, actor=None)  # v2: speed 2, 3 on ios

    locked, published = threading.Event(), threading.Event()

    def publish_meanwhile() -> int:
        try:
            locked.wait(5)
            release = publish(game=game, actor=None, note="meanwhile")
            published.set()
            return release.version
        finally:
            connection.close()

    with ThreadPoolExecutor(1) as pool:
        with transaction.atomic():
            _lock_config(game)  # as a rollback does first
            later = pool.submit(publish_meanwhile)
            locked.set()
            assert not published.wait(0.5)  # the publish waits for the lock
            rollback(game=game, actor=None, version=1)  # v3: speed 1, no overrides
        version = later.result(timeout=10)

    assert version == 4
    latest = ConfigRelease.objects.get(game=game, version=4)
    # What the rollback left, whole: not v2's draft read before it, nor a mix of the two.
    assert latest.rules == ConfigRelease.objects.get(game=game, version=1).rules
    assert latest.rules["speed"]["overrides"] == []


def test_two_operators_saving_one_new_key_at_once_both_apply(game):
    start = threading.Barrier(2)

    def save(value: int) -> str:
        try:
            start.wait()
            set_key(game=Game.objects.get(pk=game.pk), actor=None, key="fresh", value=value)
            return "saved"
        except Exception as error:  # the race this lock removes: a unique-key 500
            return repr(error)
        finally:
            connection.close()

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(save, [1, 2]))

    assert outcomes == ["saved", "saved"]
    assert ConfigKey.objects.get(game=game, key="fresh").value in (1, 2)
    entries = AuditLogEntry.objects.filter(action="remoteconfig.set_key").order_by("id")
    assert [bool(entry.before) for entry in entries] == [False, True]  # created, then changed
