"""The matches list's mode filter applies whatever mode the link names: also when the user's
games offer no mode (no XP rule or server names one); a mode holding U+0000 (which PostgreSQL
refuses in a query) is the admin's invalid-filter answer instead of a 500."""

from __future__ import annotations

import pytest
from django.utils import timezone

from apps.multiplayer.models import Match, Outcome, RegisteredServer, XpRule
from tests.accounts.admin_lists import listed, signed_in_operator

URL = "/admin/multiplayer/match/"
TABLE = "multiplayer_match"

pytestmark = pytest.mark.django_db


@pytest.fixture
def duel_and_ctf(game):
    now = timezone.now()
    return [
        Match.objects.create(
            game=game, match_id=f"m-{mode}", mode=mode, started_at=now, ended_at=now
        )
        for mode in ("duel", "ctf")
    ]


def test_a_mode_filters_when_no_mode_is_offered(client, game, duel_and_ctf):
    operator_client = signed_in_operator(client, game)

    assert listed(operator_client, f"{URL}?mode__exact=duel", TABLE)[1] == [duel_and_ctf[0]]
    assert listed(operator_client, f"{URL}?mode__exact=retired", TABLE)[1] == []
    assert len(listed(operator_client, URL, TABLE)[1]) == 2


@pytest.mark.parametrize("mode", ["%00", "duel%00", "a%00b"])
def test_a_mode_with_u0000_is_the_invalid_filter_answer(client, game, duel_and_ctf, mode):
    """As every admin list's (GameScopedAdmin): it was a 500."""
    XpRule.objects.create(game=game, mode="duel", outcome=Outcome.WIN, xp=10)  # a mode offered
    operator_client = signed_in_operator(client, game)

    response = operator_client.get(f"{URL}?mode__exact={mode}")

    assert response.status_code == 302 and response["Location"].endswith("?e=1")


def test_a_server_mode_no_match_can_have_is_not_offered(client, game, duel_and_ctf):
    """A heartbeat takes any label as its mode; a match result only a name: "Team Deathmatch"
    was offered, and listed no match."""
    now = timezone.now()
    for server_id, mode in [("eu-1", "Team Deathmatch"), ("eu-2", "ctf")]:
        RegisteredServer.objects.create(
            game=game,
            server_id=server_id,
            region="eu",
            address="10.0.0.1",
            port=7777,
            capacity=10,
            mode=mode,
            registered_at=now,
            last_heartbeat_at=now,
        )
    operator_client = signed_in_operator(client, game)

    cl = operator_client.get(URL).context["cl"]
    [modes] = [spec for spec in cl.filter_specs if spec.title == "mode"]

    assert [choice["display"] for choice in modes.choices(cl)][1:] == ["ctf"]
