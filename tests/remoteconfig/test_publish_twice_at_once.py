"""A draft published twice at once, and a confirmed rollback sent twice at once, on PostgreSQL
with real threads: no 500, no release half written, numbers one after another."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from apps.accounts.models import Game
from apps.audit.models import AuditLogEntry
from apps.remoteconfig.models import ConfigRelease
from apps.remoteconfig.services import publish, rollback, set_key
from gamingpanel.errors import Conflict

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def at_once(work, count: int = 2) -> list[object]:
    start = threading.Barrier(count)

    def run(_: int) -> object:
        try:
            start.wait()
            return work()
        except Exception as error:  # noqa: BLE001 - the outcome is what is compared
            return error
        finally:
            connection.close()

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(run, range(count)))


def test_a_draft_published_twice_at_once_makes_two_whole_releases(game):
    set_key(game=game, actor=None, key="speed", value={"x": [1, 2.5, None, True, "s"]})

    outcomes = at_once(lambda: publish(game=Game.objects.get(pk=game.pk), actor=None))

    assert sorted(release.version for release in outcomes) == [1, 2]  # no Conflict, no 500
    rules = [release.rules for release in ConfigRelease.objects.filter(game=game)]
    assert rules == [{"speed": {"value": {"x": [1, 2.5, None, True, "s"]}, "description": "",
                                "overrides": []}}] * 2  # fmt: skip
    assert AuditLogEntry.objects.filter(action="remoteconfig.publish").count() == 2


def test_a_confirmed_rollback_sent_twice_at_once_applies_once(game):
    set_key(game=game, actor=None, key="speed", value=1)
    publish(game=game, actor=None)
    set_key(game=game, actor=None, key="speed", value=2)
    publish(game=game, actor=None)

    outcomes = at_once(
        lambda: (
            rollback(
                game=Game.objects.get(pk=game.pk), actor=None, version=1, expected_live=2
            ).version
        )
    )

    assert [o for o in outcomes if not isinstance(o, Conflict)] == [3]
    assert len([o for o in outcomes if isinstance(o, Conflict)]) == 1
    assert list(ConfigRelease.objects.filter(game=game).values_list("version", flat=True)) == [
        3, 2, 1,
    ]  # fmt: skip
