"""Cloning a season whose copy would end after the year 9999 (placed after the game's last
season, as long as the original): refused with a message, nothing created (was an
OverflowError, a 500)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model

from apps.accounts.models import GameAccess
from apps.accounts.services import set_game_access
from apps.audit.models import AuditLogEntry
from apps.battlepass.models import Season, Tier

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator(game):
    account = get_user_model().objects.create_user(username="olga", password="pw-long-enough-1")
    set_game_access(user=account, game=game, role=GameAccess.Role.OPERATOR)
    return account


@pytest.fixture
def last_season(game):
    season = Season.objects.create(
        game=game,
        name="Last",
        starts_at=datetime(9999, 10, 1, tzinfo=UTC),
        ends_at=datetime(9999, 12, 1, tzinfo=UTC),
    )
    Tier.objects.create(season=season, level=1, xp_required=0)
    return season


def clone(client, *seasons: Season):
    return client.post(
        "/admin/battlepass/season/",
        {"action": "clone_selected", "_selected_action": [s.pk for s in seasons]},
        follow=True,
    )


@pytest.mark.parametrize("with_the_running_one", [False, True])
def test_a_copy_past_the_year_9999_is_refused_and_nothing_is_cloned(
    client, operator, season, last_season, with_the_running_one
):
    client.force_login(operator)
    # The running season's copy goes after the last one (ends 9999-12-01) too: 31 days do not
    # fit; nor do the last one's 61.
    selected = [season, last_season] if with_the_running_one else [last_season]
    response = clone(client, *selected)
    assert response.status_code == 200
    said = [str(message) for message in response.context["messages"]]
    assert len(said) == 1 and said[0].startswith("Nothing cloned: ")
    assert "after the year 9999" in said[0]
    assert set(Season.objects.values_list("pk", flat=True)) == {season.pk, last_season.pk}
    assert Tier.objects.filter(season__in=[season, last_season]).count() == Tier.objects.count()
    assert not AuditLogEntry.objects.filter(action="season.clone").exists()


def test_a_copy_that_ends_by_the_year_9999_is_still_made(client, operator, game):
    short = Season.objects.create(
        game=game,
        name="Short",
        starts_at=datetime(9999, 12, 1, tzinfo=UTC),
        ends_at=datetime(9999, 12, 11, tzinfo=UTC),
    )
    client.force_login(operator)
    response = clone(client, short)
    assert response.status_code == 200
    copy = Season.objects.exclude(pk=short.pk).get()
    assert (copy.starts_at, copy.ends_at - copy.starts_at) == (short.ends_at, timedelta(days=10))
