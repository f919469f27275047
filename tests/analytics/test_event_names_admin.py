"""The event-name registry in the admin: an operator sees the names each game has used and can
delete one to free its place under ANALYTICS_MAX_EVENT_NAMES (a client build that sent an id in
its names would otherwise leave the game full for good)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from apps.accounts.models import GameAccess
from apps.analytics import names as names_module
from apps.analytics.models import EventName
from apps.analytics.services import ingest_client_events
from apps.audit.models import AuditLogEntry
from tests.analytics.test_event_names import client_events, registered
from tests.panel.conftest import make_user

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/analytics/eventname/"


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_deleting_a_name_frees_its_place_for_a_new_one(player, game, settings, monkeypatch):
    settings.ANALYTICS_MAX_EVENT_NAMES = 3
    now = [1_000.0]
    monkeypatch.setattr(names_module, "_clock", lambda: now[0])
    ingest_client_events(player=player, events=client_events("level_up", "boss_171", "boss_172"))
    full = ingest_client_events(player=player, events=client_events("shop_open"))
    assert [r.code for r in full.rejected] == ["too_many_event_names"]
    typo = EventName.objects.get(game=game, name="boss_171")
    operator = signed_in(make_user("olga", game, GameAccess.Role.OPERATOR))

    response = operator.post(f"{CHANGELIST}{typo.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert registered(game.pk) == ["boss_172", "level_up"]
    assert AuditLogEntry.objects.filter(target_id=str(typo.pk)).exists()
    now[0] += names_module.KNOWN_SECONDS  # every process has forgotten the game was full
    freed = ingest_client_events(player=player, events=client_events("shop_open"))
    assert (freed.accepted, freed.rejected) == (1, [])
    assert registered(game.pk) == ["boss_172", "level_up", "shop_open"]


def test_names_are_listed_per_game_and_never_added_or_renamed_here(game, other_game):
    today = timezone.now().date()
    mine = EventName.objects.create(game=game, name="level_up", first_seen=today)
    EventName.objects.create(game=other_game, name="their_event", first_seen=today)
    operator = signed_in(make_user("olga", game, GameAccess.Role.OPERATOR))

    listed = operator.get(CHANGELIST)

    assert listed.status_code == 200
    assert [name.name for name in listed.context["cl"].result_list] == ["level_up"]
    assert operator.get(f"{CHANGELIST}add/").status_code == 403
    change = operator.post(f"{CHANGELIST}{mine.pk}/change/", {"name": "renamed", "game": game.pk})
    assert change.status_code == 403
    assert EventName.objects.get(pk=mine.pk).name == "level_up"


def test_an_analyst_cannot_delete_a_name(game):
    name = EventName.objects.create(game=game, name="level_up", first_seen=timezone.now().date())
    analyst = signed_in(make_user("anna", game, GameAccess.Role.ANALYST))

    assert analyst.get(CHANGELIST).status_code == 200
    assert analyst.post(f"{CHANGELIST}{name.pk}/delete/", {"post": "yes"}).status_code == 403
    assert EventName.objects.filter(pk=name.pk).exists()
